/*
 * Provision request and response, both directions (MS-ASPROV), the typed
 * policy of eas/policy.h, the EASProvisionDoc codec and the protocol 2.5
 * MS-WAP-Provisioning-XML policy (parsed with expat under limits).
 */
#include "provision.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codec_util.h"
#include "common/mem.h"
#include "common/xml_mem.h"

/* ==== the policy table ======================================================== */

enum { K_BOOL, K_UINT, K_INT, K_LIST };

typedef struct policy_field {
	const char *name;
	eas_tag tag;        /* EAS_TAG_NONE: protocol 2.5 only */
	eas_tag item;       /* K_LIST: the item element */
	unsigned char kind;
	size_t offset;      /* value (K_LIST: the array pointer) */
	size_t count_offset; /* K_LIST: the count */
	int64_t min, max, def;
	uint32_t allowed;   /* nonzero: the allowed values, as bits (MaxCalendarAgeFilter) */
} policy_field;

#define OFF(m) offsetof(eas_policy, m)
#define BOOLF(id, name, m, def) \
	[EAS_POLICY_##id] = { name, EAS_TAG_PROVISION_##id, EAS_TAG_NONE, K_BOOL, OFF(m), 0, 0, 1, def, 0 }
#define UINTF(id, name, m, lo, hi, def) \
	[EAS_POLICY_##id] = { name, EAS_TAG_PROVISION_##id, EAS_TAG_NONE, K_UINT, OFF(m), 0, lo, hi, def, 0 }
#define INTF(id, name, m, lo, hi, def) \
	[EAS_POLICY_##id] = { name, EAS_TAG_PROVISION_##id, EAS_TAG_NONE, K_INT, OFF(m), 0, lo, hi, def, 0 }
#define LISTF(id, name, item, m, n) \
	[EAS_POLICY_##id] = { name, EAS_TAG_PROVISION_##id, EAS_TAG_PROVISION_##item, K_LIST, OFF(m), OFF(n), 0, 0, 0, 0 }

static const policy_field fields[EAS_POLICY_ID_COUNT] = {
	UINTF(ALLOW_BLUETOOTH, "AllowBluetooth", allow_bluetooth, 0, 2, 2),
	BOOLF(ALLOW_BROWSER, "AllowBrowser", allow_browser, 1),
	BOOLF(ALLOW_CAMERA, "AllowCamera", allow_camera, 1),
	BOOLF(ALLOW_CONSUMER_EMAIL, "AllowConsumerEmail", allow_consumer_email, 1),
	BOOLF(ALLOW_DESKTOP_SYNC, "AllowDesktopSync", allow_desktop_sync, 1),
	BOOLF(ALLOW_HTML_EMAIL, "AllowHTMLEmail", allow_html_email, 1),
	BOOLF(ALLOW_INTERNET_SHARING, "AllowInternetSharing", allow_internet_sharing, 1),
	BOOLF(ALLOW_IRDA, "AllowIrDA", allow_irda, 1),
	BOOLF(ALLOW_POP_IMAP_EMAIL, "AllowPOPIMAPEmail", allow_pop_imap_email, 1),
	BOOLF(ALLOW_REMOTE_DESKTOP, "AllowRemoteDesktop", allow_remote_desktop, 1),
	BOOLF(ALLOW_SIMPLE_DEVICE_PASSWORD, "AllowSimpleDevicePassword", allow_simple_device_password, 1),
	UINTF(ALLOW_SMIME_ENCRYPTION_ALGORITHM_NEGOTIATION, "AllowSMIMEEncryptionAlgorithmNegotiation",
	      allow_smime_encryption_algorithm_negotiation, 0, 2, 2),
	BOOLF(ALLOW_SMIME_SOFT_CERTS, "AllowSMIMESoftCerts", allow_smime_soft_certs, 1),
	BOOLF(ALLOW_STORAGE_CARD, "AllowStorageCard", allow_storage_card, 1),
	BOOLF(ALLOW_TEXT_MESSAGING, "AllowTextMessaging", allow_text_messaging, 1),
	BOOLF(ALLOW_UNSIGNED_APPLICATIONS, "AllowUnsignedApplications", allow_unsigned_applications, 1),
	BOOLF(ALLOW_UNSIGNED_INSTALLATION_PACKAGES, "AllowUnsignedInstallationPackages",
	      allow_unsigned_installation_packages, 1),
	BOOLF(ALLOW_WIFI, "AllowWiFi", allow_wifi, 1),
	BOOLF(ALPHANUMERIC_DEVICE_PASSWORD_REQUIRED, "AlphanumericDevicePasswordRequired",
	      alphanumeric_device_password_required, 0),
	LISTF(APPROVED_APPLICATION_LIST, "ApprovedApplicationList", HASH, approved_applications,
	      approved_application_count),
	BOOLF(ATTACHMENTS_ENABLED, "AttachmentsEnabled", attachments_enabled, 1),
	BOOLF(DEVICE_PASSWORD_ENABLED, "DevicePasswordEnabled", device_password_enabled, 0),
	UINTF(DEVICE_PASSWORD_EXPIRATION, "DevicePasswordExpiration", device_password_expiration, 0, UINT32_MAX, 0),
	UINTF(DEVICE_PASSWORD_HISTORY, "DevicePasswordHistory", device_password_history, 0, UINT32_MAX, 0),
	UINTF(MAX_ATTACHMENT_SIZE, "MaxAttachmentSize", max_attachment_size, 0, UINT32_MAX, 0),
	[EAS_POLICY_MAX_CALENDAR_AGE_FILTER] = { "MaxCalendarAgeFilter", EAS_TAG_PROVISION_MAX_CALENDAR_AGE_FILTER,
						 EAS_TAG_NONE, K_UINT, OFF(max_calendar_age_filter), 0, 0, 7, 0,
						 (1u << 0) | (1u << 4) | (1u << 5) | (1u << 6) | (1u << 7) },
	UINTF(MAX_DEVICE_PASSWORD_FAILED_ATTEMPTS, "MaxDevicePasswordFailedAttempts",
	      max_device_password_failed_attempts, 4, 16, 0),
	UINTF(MAX_EMAIL_AGE_FILTER, "MaxEmailAgeFilter", max_email_age_filter, 0, 5, 0),
	INTF(MAX_EMAIL_BODY_TRUNCATION_SIZE, "MaxEmailBodyTruncationSize", max_email_body_truncation_size, -1,
	     INT32_MAX, -1),
	INTF(MAX_EMAIL_HTML_BODY_TRUNCATION_SIZE, "MaxEmailHTMLBodyTruncationSize",
	     max_email_html_body_truncation_size, -1, INT32_MAX, -1),
	UINTF(MAX_INACTIVITY_TIME_DEVICE_LOCK, "MaxInactivityTimeDeviceLock", max_inactivity_time_device_lock, 0,
	      UINT32_MAX, 0),
	UINTF(MIN_DEVICE_PASSWORD_COMPLEX_CHARACTERS, "MinDevicePasswordComplexCharacters",
	      min_device_password_complex_characters, 1, 4, 1),
	UINTF(MIN_DEVICE_PASSWORD_LENGTH, "MinDevicePasswordLength", min_device_password_length, 1, 16, 0),
	BOOLF(PASSWORD_RECOVERY_ENABLED, "PasswordRecoveryEnabled", password_recovery_enabled, 0),
	BOOLF(REQUIRE_DEVICE_ENCRYPTION, "RequireDeviceEncryption", require_device_encryption, 0),
	BOOLF(REQUIRE_ENCRYPTED_SMIME_MESSAGES, "RequireEncryptedSMIMEMessages", require_encrypted_smime_messages, 0),
	UINTF(REQUIRE_ENCRYPTION_SMIME_ALGORITHM, "RequireEncryptionSMIMEAlgorithm", require_encryption_smime_algorithm,
	      0, 4, 0),
	BOOLF(REQUIRE_MANUAL_SYNC_WHEN_ROAMING, "RequireManualSyncWhenRoaming", require_manual_sync_when_roaming, 0),
	UINTF(REQUIRE_SIGNED_SMIME_ALGORITHM, "RequireSignedSMIMEAlgorithm", require_signed_smime_algorithm, 0, 1, 0),
	BOOLF(REQUIRE_SIGNED_SMIME_MESSAGES, "RequireSignedSMIMEMessages", require_signed_smime_messages, 0),
	BOOLF(REQUIRE_STORAGE_CARD_ENCRYPTION, "RequireStorageCardEncryption", require_storage_card_encryption, 0),
	LISTF(UNAPPROVED_IN_ROM_APPLICATION_LIST, "UnapprovedInROMApplicationList", APPLICATION_NAME,
	      unapproved_in_rom_applications, unapproved_in_rom_application_count),
	[EAS_POLICY_WAP_UNLOCK_FROM_COMPUTER] = { "4133", EAS_TAG_NONE, EAS_TAG_NONE, K_BOOL,
						  OFF(wap_unlock_from_computer), 0, 0, 1, 0, 0 },
	[EAS_POLICY_WAP_CODEWORD_FREQUENCY] = { "CodewordFrequency", EAS_TAG_NONE, EAS_TAG_NONE, K_UINT,
						OFF(wap_codeword_frequency), 0, 0, UINT32_MAX, 0, 0 },
};

/* EASProvisionDoc element order on the wire: the order of MS-ASPROV's examples (and Exchange's). */
static const unsigned char wire_order[] = {
	EAS_POLICY_DEVICE_PASSWORD_ENABLED,
	EAS_POLICY_ALPHANUMERIC_DEVICE_PASSWORD_REQUIRED,
	EAS_POLICY_PASSWORD_RECOVERY_ENABLED,
	EAS_POLICY_REQUIRE_STORAGE_CARD_ENCRYPTION,
	EAS_POLICY_ATTACHMENTS_ENABLED,
	EAS_POLICY_MIN_DEVICE_PASSWORD_LENGTH,
	EAS_POLICY_MAX_INACTIVITY_TIME_DEVICE_LOCK,
	EAS_POLICY_MAX_DEVICE_PASSWORD_FAILED_ATTEMPTS,
	EAS_POLICY_MAX_ATTACHMENT_SIZE,
	EAS_POLICY_ALLOW_SIMPLE_DEVICE_PASSWORD,
	EAS_POLICY_DEVICE_PASSWORD_EXPIRATION,
	EAS_POLICY_DEVICE_PASSWORD_HISTORY,
	EAS_POLICY_ALLOW_STORAGE_CARD,
	EAS_POLICY_ALLOW_CAMERA,
	EAS_POLICY_REQUIRE_DEVICE_ENCRYPTION,
	EAS_POLICY_ALLOW_UNSIGNED_APPLICATIONS,
	EAS_POLICY_ALLOW_UNSIGNED_INSTALLATION_PACKAGES,
	EAS_POLICY_MIN_DEVICE_PASSWORD_COMPLEX_CHARACTERS,
	EAS_POLICY_ALLOW_WIFI,
	EAS_POLICY_ALLOW_TEXT_MESSAGING,
	EAS_POLICY_ALLOW_POP_IMAP_EMAIL,
	EAS_POLICY_ALLOW_BLUETOOTH,
	EAS_POLICY_ALLOW_IRDA,
	EAS_POLICY_REQUIRE_MANUAL_SYNC_WHEN_ROAMING,
	EAS_POLICY_ALLOW_DESKTOP_SYNC,
	EAS_POLICY_MAX_CALENDAR_AGE_FILTER,
	EAS_POLICY_ALLOW_HTML_EMAIL,
	EAS_POLICY_MAX_EMAIL_AGE_FILTER,
	EAS_POLICY_MAX_EMAIL_BODY_TRUNCATION_SIZE,
	EAS_POLICY_MAX_EMAIL_HTML_BODY_TRUNCATION_SIZE,
	EAS_POLICY_REQUIRE_SIGNED_SMIME_MESSAGES,
	EAS_POLICY_REQUIRE_ENCRYPTED_SMIME_MESSAGES,
	EAS_POLICY_REQUIRE_SIGNED_SMIME_ALGORITHM,
	EAS_POLICY_REQUIRE_ENCRYPTION_SMIME_ALGORITHM,
	EAS_POLICY_ALLOW_SMIME_ENCRYPTION_ALGORITHM_NEGOTIATION,
	EAS_POLICY_ALLOW_SMIME_SOFT_CERTS,
	EAS_POLICY_ALLOW_BROWSER,
	EAS_POLICY_ALLOW_CONSUMER_EMAIL,
	EAS_POLICY_ALLOW_REMOTE_DESKTOP,
	EAS_POLICY_ALLOW_INTERNET_SHARING,
	EAS_POLICY_UNAPPROVED_IN_ROM_APPLICATION_LIST,
	EAS_POLICY_APPROVED_APPLICATION_LIST,
};
/* Every EASProvisionDoc element (all ids but the two 2.5 ones) is on the wire exactly once. */
typedef char wire_order_complete[sizeof wire_order == EAS_POLICY_WAP_UNLOCK_FROM_COMPUTER ? 1 : -1];

static int valid_id(eas_policy_id id)
{
	return (unsigned)id < EAS_POLICY_ID_COUNT;
}

static int64_t field_value(const eas_policy *p, const policy_field *f)
{
	const char *base = (const char *)p + f->offset;
	switch (f->kind) {
	case K_BOOL: {
		int v;
		memcpy(&v, base, sizeof v);
		return v;
	}
	case K_UINT: {
		uint32_t v;
		memcpy(&v, base, sizeof v);
		return v;
	}
	case K_INT: {
		int32_t v;
		memcpy(&v, base, sizeof v);
		return v;
	}
	default:
		return 0;
	}
}

static void store_value(eas_policy *p, const policy_field *f, int64_t value)
{
	char *base = (char *)p + f->offset;
	if (f->kind == K_BOOL) {
		int v = (int)value;
		memcpy(base, &v, sizeof v);
	} else if (f->kind == K_UINT) {
		uint32_t v = (uint32_t)value;
		memcpy(base, &v, sizeof v);
	} else if (f->kind == K_INT) {
		int32_t v = (int32_t)value;
		memcpy(base, &v, sizeof v);
	}
}

static int in_range(const policy_field *f, int64_t v)
{
	if (v < f->min || v > f->max)
		return 0;
	return !f->allowed || (f->allowed & (1u << (unsigned)v));
}

/* "(1-16)", "(0 or 1)", "(one of 0, 4, 5, 6, 7)" */
static const char *range_text(const policy_field *f, char *buf, size_t size)
{
	if (f->allowed) {
		size_t len = (size_t)snprintf(buf, size, "(one of");
		const char *sep = " ";
		for (unsigned v = 0; v < 32 && len < size; v++) {
			if (f->allowed & (1u << v)) {
				len += (size_t)snprintf(buf + len, size - len, "%s%u", sep, v);
				sep = ", ";
			}
		}
		if (len < size)
			snprintf(buf + len, size - len, ")");
	} else if (f->kind == K_BOOL) {
		snprintf(buf, size, "(0 or 1)");
	} else {
		snprintf(buf, size, "(%lld-%lld)", (long long)f->min, (long long)f->max);
	}
	return buf;
}

/* Strict decimal: optional '-' when signed, digits only, no overflow of int64. */
static int parse_decimal(int64_t *out, const char *text, size_t len, int allow_negative)
{
	size_t i = 0;
	int neg = 0;
	if (allow_negative && len > 0 && text[0] == '-') {
		neg = 1;
		i = 1;
	}
	if (i == len)
		return -1;
	int64_t v = 0;
	for (; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -1;
		if (v > (INT64_MAX - (text[i] - '0')) / 10)
			return -1;
		v = v * 10 + (text[i] - '0');
	}
	*out = neg ? -v : v;
	return 0;
}

/* ==== public policy API ======================================================== */

void eas_policy_init(eas_policy *p)
{
	if (!p)
		return;
	memset(p, 0, sizeof *p);
	for (unsigned id = 0; id < EAS_POLICY_ID_COUNT; id++)
		store_value(p, &fields[id], fields[id].def);
}

void eas_policy_clear(eas_policy *p)
{
	if (!p)
		return;
	if (p->storage_)
		eas__free(&p->storage_mem_, p->storage_);
	eas_policy_init(p);
}

eas_policy_state eas_policy_state_of(const eas_policy *p, eas_policy_id id)
{
	if (!p || !valid_id(id) || !(p->present & EAS_POLICY_BIT(id)))
		return EAS_POLICY_ABSENT;
	return (p->empty & EAS_POLICY_BIT(id)) ? EAS_POLICY_EMPTY : EAS_POLICY_SET;
}

int eas_policy_get(const eas_policy *p, eas_policy_id id, int64_t *out)
{
	if (!p || !out || !valid_id(id) || fields[id].kind == K_LIST)
		return EAS_E_INVALID;
	*out = field_value(p, &fields[id]);
	return 0;
}

int eas_policy_set(eas_policy *p, eas_policy_id id, int64_t value)
{
	if (!p || !valid_id(id) || fields[id].kind == K_LIST || !in_range(&fields[id], value))
		return EAS_E_INVALID;
	store_value(p, &fields[id], value);
	p->present |= EAS_POLICY_BIT(id);
	p->empty &= ~EAS_POLICY_BIT(id);
	return 0;
}

int eas_policy_set_empty(eas_policy *p, eas_policy_id id)
{
	if (!p || !valid_id(id))
		return EAS_E_INVALID;
	if (fields[id].kind != K_LIST) {
		store_value(p, &fields[id], fields[id].def);
	} else {
		size_t none = 0;
		const char *const *nothing = NULL;
		memcpy((char *)p + fields[id].offset, &nothing, sizeof nothing);
		memcpy((char *)p + fields[id].count_offset, &none, sizeof none);
	}
	p->present |= EAS_POLICY_BIT(id);
	p->empty |= EAS_POLICY_BIT(id);
	return 0;
}

const char *eas_policy_name(eas_policy_id id)
{
	return valid_id(id) ? fields[id].name : NULL;
}

int eas_policy_lookup(const char *name)
{
	for (unsigned id = 0; name && id < EAS_POLICY_ID_COUNT; id++)
		if (strcmp(fields[id].name, name) == 0)
			return (int)id;
	return -1;
}

static const char *const *list_items(const eas_policy *p, const policy_field *f, size_t *count)
{
	const char *const *items;
	memcpy(&items, (const char *)p + f->offset, sizeof items);
	memcpy(count, (const char *)p + f->count_offset, sizeof *count);
	return items;
}

typedef struct text_out {
	char *buf;
	size_t size, len;
} text_out;

static void out_str(text_out *o, const char *s)
{
	size_t n = strlen(s);
	if (o->len < o->size) {
		size_t room = o->size - o->len - 1;
		memcpy(o->buf + o->len, s, n < room ? n : room);
		o->buf[o->len + (n < room ? n : room)] = '\0';
	}
	o->len += n;
}

size_t eas_policy_describe(const eas_policy *p, char *buf, size_t size)
{
	text_out o = { buf, buf ? size : 0, 0 };
	if (o.size)
		buf[0] = '\0';
	for (unsigned id = 0; p && id < EAS_POLICY_ID_COUNT; id++) {
		const policy_field *f = &fields[id];
		eas_policy_state st = eas_policy_state_of(p, (eas_policy_id)id);
		if (st == EAS_POLICY_ABSENT)
			continue;
		out_str(&o, f->name);
		out_str(&o, "=");
		if (f->kind == K_LIST) {
			size_t count;
			const char *const *items = list_items(p, f, &count);
			for (size_t i = 0; items && i < count; i++) {
				if (i)
					out_str(&o, ",");
				out_str(&o, items[i] ? items[i] : "");
			}
		} else if (st == EAS_POLICY_SET) {
			char num[24];
			snprintf(num, sizeof num, "%lld", (long long)field_value(p, f));
			out_str(&o, num);
		}
		out_str(&o, "\n");
	}
	return o.len;
}

/* ---- the one owned allocation: both lists' pointer arrays, then their bytes ---- */

typedef struct storage_plan {
	size_t count[2];
	size_t bytes;
} storage_plan;

static int plan_add(storage_plan *plan, int which, size_t len)
{
	if (plan->bytes > SIZE_MAX - len - 1 || plan->count[which] == SIZE_MAX)
		return EAS_E_LIMIT;
	plan->bytes += len + 1;
	plan->count[which]++;
	return 0;
}

/*
 * Allocates the block for a plan; ptrs[0] and ptrs[1] get the two pointer
 * arrays, *chars the byte area.  Nothing is allocated for empty lists.
 */
static int storage_alloc(eas_policy *p, const eas_mem *mem, const storage_plan *plan, const char ***ptrs0,
			 const char ***ptrs1, char **chars)
{
	size_t n = plan->count[0] + plan->count[1];
	*ptrs0 = *ptrs1 = NULL;
	*chars = NULL;
	if (n == 0)
		return 0;
	if (n > (SIZE_MAX - plan->bytes) / sizeof(char *))
		return EAS_E_LIMIT;
	eas__mem_init(&p->storage_mem_, mem);
	const char **block = eas__malloc(&p->storage_mem_, n * sizeof(char *) + plan->bytes);
	if (!block)
		return EAS_E_NOMEM;
	p->storage_ = block;
	*ptrs0 = block;
	*ptrs1 = block + plan->count[0];
	*chars = (char *)(block + n);
	return 0;
}

static const char *store_string(char **chars, const char *s, size_t len)
{
	char *dst = *chars;
	memcpy(dst, s, len);
	dst[len] = '\0';
	*chars += len + 1;
	return dst;
}

static const eas_policy_id list_ids[2] = { EAS_POLICY_APPROVED_APPLICATION_LIST,
					   EAS_POLICY_UNAPPROVED_IN_ROM_APPLICATION_LIST };

static void set_list(eas_policy *p, int which, const char **items, size_t count)
{
	const policy_field *f = &fields[list_ids[which]];
	const char *const *ci = items;
	memcpy((char *)p + f->offset, &ci, sizeof ci);
	memcpy((char *)p + f->count_offset, &count, sizeof count);
}

int eas_policy_copy(eas_policy *out, const eas_policy *in, const eas_mem *mem)
{
	if (!out || !in || out == in)
		return EAS_E_INVALID;
	storage_plan plan = { { 0, 0 }, 0 };
	const char *const *src[2];
	for (int w = 0; w < 2; w++) {
		size_t count;
		src[w] = list_items(in, &fields[list_ids[w]], &count);
		if (count && !src[w])
			return EAS_E_INVALID;
		for (size_t i = 0; i < count; i++) {
			if (!src[w][i])
				return EAS_E_INVALID;
			int rc = plan_add(&plan, w, strlen(src[w][i]));
			if (rc)
				return rc;
		}
	}
	*out = *in;
	out->storage_ = NULL;
	const char **dst[2];
	char *chars;
	int rc = storage_alloc(out, mem, &plan, &dst[0], &dst[1], &chars);
	if (rc) {
		eas_policy_init(out);
		return rc;
	}
	for (int w = 0; w < 2; w++) {
		for (size_t i = 0; i < plan.count[w]; i++)
			dst[w][i] = store_string(&chars, src[w][i], strlen(src[w][i]));
		set_list(out, w, dst[w], plan.count[w]);
	}
	return 0;
}

/* ==== EASProvisionDoc ========================================================== */

static int check_scalar_node(const policy_field *f, const eas_node *n, int64_t *value, int *empty, char *err,
			     size_t err_size)
{
	if (n->first)
		return eas__cmd_malformed(err, err_size, "Provision:%s cannot have child elements", f->name);
	if (n->text_len == 0) {
		*empty = 1;
		return 0;
	}
	*empty = 0;
	if (parse_decimal(value, n->text, n->text_len, f->kind == K_INT) != 0)
		return eas__cmd_malformed(err, err_size, "Provision:%s is not a number: '%.32s'", f->name, n->text);
	if (!in_range(f, *value)) {
		char range[64];
		return eas__cmd_malformed(err, err_size, "Provision:%s out of range: %lld %s", f->name,
					  (long long)*value, range_text(f, range, sizeof range));
	}
	return 0;
}

static const policy_field *field_by_tag(eas_tag tag, eas_policy_id *id)
{
	for (unsigned i = 0; i < EAS_POLICY_ID_COUNT; i++) {
		if (fields[i].tag == tag && tag != EAS_TAG_NONE) {
			*id = (eas_policy_id)i;
			return &fields[i];
		}
	}
	return NULL;
}

static int doc_decode(eas_policy *out, const eas_node *doc, const eas_mem *mem, char *err, size_t err_size)
{
	if (!doc || doc->tag != EAS_TAG_PROVISION_EAS_PROVISION_DOC)
		return eas__cmd_malformed(err, err_size, "missing Provision:EASProvisionDoc");
	const eas_node *lists[2] = { NULL, NULL };
	storage_plan plan = { { 0, 0 }, 0 };
	for (const eas_node *n = doc->first; n; n = n->next) {
		eas_policy_id id;
		const policy_field *f = field_by_tag(n->tag, &id);
		if (!f)
			continue; /* an element a newer server adds */
		if (out->present & EAS_POLICY_BIT(id))
			return eas__cmd_malformed(err, err_size, "Provision:%s appears twice", f->name);
		out->present |= EAS_POLICY_BIT(id);
		if (f->kind == K_LIST) {
			int which = id == list_ids[0] ? 0 : 1;
			lists[which] = n;
			for (const eas_node *item = eas_node_child(n, f->item); item; item = eas_node_next_same(item)) {
				int rc = plan_add(&plan, which, strlen(item->text));
				if (rc)
					return rc;
			}
			if (plan.count[which] == 0)
				out->empty |= EAS_POLICY_BIT(id); /* <ApprovedApplicationList/> */
			continue;
		}
		int64_t v = 0;
		int empty = 0;
		int rc = check_scalar_node(f, n, &v, &empty, err, err_size);
		if (rc)
			return rc;
		if (empty)
			out->empty |= EAS_POLICY_BIT(id);
		else
			store_value(out, f, v);
	}
	const char **dst[2];
	char *chars;
	int rc = storage_alloc(out, mem, &plan, &dst[0], &dst[1], &chars);
	if (rc)
		return rc;
	for (int w = 0; w < 2; w++) {
		size_t i = 0;
		const policy_field *f = &fields[list_ids[w]];
		for (const eas_node *item = eas_node_child(lists[w], f->item); item; item = eas_node_next_same(item))
			dst[w][i++] = store_string(&chars, item->text, strlen(item->text));
		set_list(out, w, dst[w], plan.count[w]);
	}
	return 0;
}

int eas_provision_doc_decode(eas_policy *out, const eas_node *doc, const eas_mem *mem, char *err, size_t err_size)
{
	eas_policy_init(out);
	int rc = doc_decode(out, doc, mem, err, err_size);
	if (rc == EAS_E_NOMEM || rc == EAS_E_LIMIT)
		eas__cmd_malformed(err, err_size, "%s", rc == EAS_E_NOMEM ? "out of memory" : "application lists too large");
	if (rc)
		eas_policy_clear(out);
	return rc;
}

int eas_provision_doc_encode(eas_wbxml_encoder *enc, const eas_policy *p)
{
	if (!enc || !p)
		return EAS_E_INVALID;
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_PROVISION_EAS_PROVISION_DOC);
	for (size_t i = 0; rc == 0 && i < sizeof wire_order; i++) {
		eas_policy_id id = (eas_policy_id)wire_order[i];
		const policy_field *f = &fields[id];
		eas_policy_state st = eas_policy_state_of(p, id);
		if (st == EAS_POLICY_ABSENT)
			continue;
		if (f->kind == K_LIST) {
			size_t count;
			const char *const *items = list_items(p, f, &count);
			if (count == 0) {
				rc = eas_wbxml_encoder_empty(enc, f->tag);
				continue;
			}
			if (!items)
				return EAS_E_INVALID;
			rc = eas_wbxml_encoder_start(enc, f->tag);
			for (size_t k = 0; rc == 0 && k < count; k++)
				rc = items[k] ? eas_wbxml_encoder_element(enc, f->item, items[k]) : EAS_E_INVALID;
			if (rc == 0)
				rc = eas_wbxml_encoder_end(enc);
		} else if (st == EAS_POLICY_EMPTY) {
			rc = eas_wbxml_encoder_empty(enc, f->tag);
		} else {
			int64_t v = field_value(p, f);
			if (!in_range(f, v))
				return EAS_E_INVALID;
			char num[24];
			snprintf(num, sizeof num, "%lld", (long long)v);
			rc = eas_wbxml_encoder_element(enc, f->tag, num);
		}
	}
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

/* ==== protocol 2.5: MS-WAP-Provisioning-XML ===================================== */

enum { SEC_NONE, SEC_SECURITY_POLICY, SEC_REGISTRY, SEC_OTHER };

typedef struct wap_ctx {
	XML_Parser parser;
	eas_mem mem;
	eas_xml_mem xm; /* expat allocates through mem (common/xml_mem); xm.failed: an allocation failed */
	int result;
	char *err;
	size_t err_size;
	eas_policy *out;
	unsigned depth;
	int section;
	int aef_type_seen, aef_value_seen;
	int64_t aef_type, aef_value;
} wap_ctx;

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void wap_fail(wap_ctx *c, int code, const char *fmt, ...)
{
	if (c->result)
		return;
	c->result = code;
	if (c->err && c->err_size) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(c->err, c->err_size, fmt, ap);
		va_end(ap);
	}
	XML_StopParser(c->parser, XML_FALSE);
}

static const char *wap_attr(const XML_Char **attrs, const char *name)
{
	for (size_t i = 0; attrs && attrs[i]; i += 2)
		if (strcmp(attrs[i], name) == 0)
			return attrs[i + 1];
	return NULL;
}

/* A parm value as a number in lo..hi; 0 or a failure recorded in c. */
static int wap_number(wap_ctx *c, const char *parm, const char *value, int64_t lo, int64_t hi, int64_t *out)
{
	if (parse_decimal(out, value, strlen(value), 1) != 0) {
		wap_fail(c, EAS_E_MALFORMED, "wap-provisioningdoc parm '%s' is not a number: '%.32s'", parm, value);
		return -1;
	}
	if (*out < lo || *out > hi) {
		wap_fail(c, EAS_E_MALFORMED, "wap-provisioningdoc parm '%s' out of range: %lld (%lld-%lld)", parm,
			 (long long)*out, (long long)lo, (long long)hi);
		return -1;
	}
	return 0;
}

static void wap_set(wap_ctx *c, eas_policy_id id, int64_t v)
{
	store_value(c->out, &fields[id], v);
	c->out->present |= EAS_POLICY_BIT(id);
	c->out->empty &= ~EAS_POLICY_BIT(id);
}

static void wap_set_empty(wap_ctx *c, eas_policy_id id)
{
	eas_policy_set_empty(c->out, id);
}

/* A parm mapped to an eas_policy field with that field's range. */
static void wap_mapped(wap_ctx *c, const char *parm, const char *value, eas_policy_id id)
{
	const policy_field *f = &fields[id];
	int64_t v;
	if (wap_number(c, parm, value, f->min, f->max, &v) == 0)
		wap_set(c, id, v);
}

static void wap_parm(wap_ctx *c, const char *name, const char *value)
{
	int64_t v;
	if (c->section == SEC_SECURITY_POLICY) {
		if (strcmp(name, "4131") == 0) {
			/* 0: a password is required; 1: it is not */
			if (wap_number(c, name, value, 0, 1, &v) == 0)
				wap_set(c, EAS_POLICY_DEVICE_PASSWORD_ENABLED, v == 0);
		} else if (strcmp(name, "4133") == 0) {
			wap_mapped(c, name, value, EAS_POLICY_WAP_UNLOCK_FROM_COMPUTER);
		}
		return;
	}
	if (c->section != SEC_REGISTRY)
		return;
	if (strcmp(name, "AEFrequencyType") == 0) {
		if (wap_number(c, name, value, 0, 1, &c->aef_type) == 0)
			c->aef_type_seen = 1;
	} else if (strcmp(name, "AEFrequencyValue") == 0) {
		/* minutes, stored as seconds */
		if (wap_number(c, name, value, 0, UINT32_MAX / 60, &c->aef_value) == 0)
			c->aef_value_seen = 1;
	} else if (strcmp(name, "DeviceWipeThreshold") == 0) {
		if (wap_number(c, name, value, INT32_MIN, INT32_MAX, &v) != 0)
			return;
		if (v <= 0)
			wap_set_empty(c, EAS_POLICY_MAX_DEVICE_PASSWORD_FAILED_ATTEMPTS); /* -1: no limit */
		else
			wap_mapped(c, name, value, EAS_POLICY_MAX_DEVICE_PASSWORD_FAILED_ATTEMPTS);
	} else if (strcmp(name, "CodewordFrequency") == 0) {
		wap_mapped(c, name, value, EAS_POLICY_WAP_CODEWORD_FREQUENCY);
	} else if (strcmp(name, "MinimumPasswordLength") == 0) {
		if (wap_number(c, name, value, 0, 16, &v) != 0)
			return;
		if (v == 0)
			wap_set_empty(c, EAS_POLICY_MIN_DEVICE_PASSWORD_LENGTH);
		else
			wap_set(c, EAS_POLICY_MIN_DEVICE_PASSWORD_LENGTH, v);
	} else if (strcmp(name, "PasswordComplexity") == 0) {
		/* 0: alphanumeric required; 1: numeric; 2: anything */
		if (wap_number(c, name, value, 0, 2, &v) == 0)
			wap_set(c, EAS_POLICY_ALPHANUMERIC_DEVICE_PASSWORD_REQUIRED, v == 0);
	}
}

static void XMLCALL wap_on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	wap_ctx *c = ud;
	if (c->result)
		return;
	if (++c->depth > EAS_WAP_POLICY_MAX_DEPTH) {
		wap_fail(c, EAS_E_LIMIT, "wap-provisioningdoc nested deeper than %u elements", EAS_WAP_POLICY_MAX_DEPTH);
		return;
	}
	if (c->depth == 1) {
		if (strcmp(name, "wap-provisioningdoc") != 0)
			wap_fail(c, EAS_E_MALFORMED, "policy root element is '%.40s', expected wap-provisioningdoc", name);
		return;
	}
	if (strcmp(name, "characteristic") == 0) {
		if (c->depth == 2) {
			const char *type = wap_attr(attrs, "type");
			c->section = !type ? SEC_OTHER
				   : strcmp(type, "SecurityPolicy") == 0 ? SEC_SECURITY_POLICY
				   : strcmp(type, "Registry") == 0 ? SEC_REGISTRY : SEC_OTHER;
		}
	} else if (strcmp(name, "parm") == 0) {
		const char *pname = wap_attr(attrs, "name"), *value = wap_attr(attrs, "value");
		if (!pname)
			wap_fail(c, EAS_E_MALFORMED, "wap-provisioningdoc parm without a name");
		else if (!value)
			wap_fail(c, EAS_E_MALFORMED, "wap-provisioningdoc parm '%.40s' without a value", pname);
		else
			wap_parm(c, pname, value);
	}
}

static void XMLCALL wap_on_end(void *ud, const XML_Char *name)
{
	(void)name;
	wap_ctx *c = ud;
	if (c->depth == 2)
		c->section = SEC_NONE;
	if (c->depth)
		c->depth--;
}

static void XMLCALL wap_on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
				   int has_internal_subset)
{
	(void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
	wap_fail(ud, EAS_E_MALFORMED, "wap-provisioningdoc: DOCTYPE refused");
}

static void XMLCALL wap_on_entity_decl(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
				       int value_len, const XML_Char *base, const XML_Char *sysid,
				       const XML_Char *pubid, const XML_Char *notation)
{
	(void)is_param, (void)value, (void)value_len, (void)base, (void)sysid, (void)pubid, (void)notation;
	wap_fail(ud, EAS_E_MALFORMED, "wap-provisioningdoc: entity declaration '%.40s' refused", name);
}

static int XMLCALL wap_on_external_entity(XML_Parser p, const XML_Char *context, const XML_Char *base,
					  const XML_Char *sysid, const XML_Char *pubid)
{
	(void)context, (void)base, (void)pubid;
	wap_fail(XML_GetUserData(p), EAS_E_MALFORMED, "wap-provisioningdoc: external entity '%.40s' refused",
		 sysid ? sysid : "");
	return XML_STATUS_ERROR;
}

static void XMLCALL wap_on_skipped_entity(void *ud, const XML_Char *name, int is_param)
{
	(void)is_param;
	wap_fail(ud, EAS_E_MALFORMED, "wap-provisioningdoc: undefined entity '%.40s'", name);
}

int eas_provision_wap_policy_parse(eas_policy *out, const char *xml, size_t len, const eas_mem *mem, char *err,
				   size_t err_size)
{
	if (!out || (!xml && len))
		return EAS_E_INVALID;
	eas_policy_init(out);
	if (len > EAS_WAP_POLICY_MAX_BYTES) {
		eas__cmd_malformed(err, err_size, "MS-WAP-Provisioning-XML policy larger than %u bytes",
				   EAS_WAP_POLICY_MAX_BYTES);
		return EAS_E_LIMIT;
	}
	wap_ctx c;
	memset(&c, 0, sizeof c);
	eas__mem_init(&c.mem, mem);
	c.err = err;
	c.err_size = err_size;
	c.out = out;
	/* No namespace processing; any allocation failure while expat sets itself up is a NULL parser. */
	c.xm.mem = &c.mem;
	c.parser = eas__xml_parser_new(&c.xm, '\0');
	if (!c.parser) {
		eas__cmd_malformed(err, err_size, "out of memory");
		return EAS_E_NOMEM;
	}
	XML_SetUserData(c.parser, &c);
	XML_SetElementHandler(c.parser, wap_on_start, wap_on_end);
	XML_SetStartDoctypeDeclHandler(c.parser, wap_on_doctype);
	XML_SetEntityDeclHandler(c.parser, wap_on_entity_decl);
	XML_SetExternalEntityRefHandler(c.parser, wap_on_external_entity);
	XML_SetSkippedEntityHandler(c.parser, wap_on_skipped_entity);
	/* Parameter entities are off; the amplification limit starts earlier than the default. */
	eas__xml_parser_set_amplification(c.parser, EAS_XML_MAX_AMPLIFICATION, 16u * 1024u);
	enum XML_Status st = eas__xml_parse(&c.xm, c.parser, xml ? xml : "", len, XML_TRUE);
	if (!c.result && st != XML_STATUS_OK) {
		enum XML_Error e = XML_GetErrorCode(c.parser);
		unsigned long line = (unsigned long)XML_GetCurrentLineNumber(c.parser);
		if (e == XML_ERROR_NO_MEMORY)
			c.xm.failed = 1;
		else
			wap_fail(&c,
#if XML_MAJOR_VERSION > 2 || (XML_MAJOR_VERSION == 2 && XML_MINOR_VERSION >= 4)
				 e == XML_ERROR_AMPLIFICATION_LIMIT_BREACH ? EAS_E_LIMIT :
#endif
				 EAS_E_MALFORMED, "MS-WAP-Provisioning-XML line %lu: %s", line, XML_ErrorString(e));
	}
	eas__xml_parser_free(&c.xm, c.parser);
	if (c.xm.failed) {
		/* whatever expat made of it, memory ran out */
		eas_policy_init(out);
		eas__cmd_malformed(err, err_size, "out of memory");
		return EAS_E_NOMEM;
	}
	if (c.result) {
		eas_policy_init(out);
		return c.result;
	}
	if (c.aef_type_seen && c.aef_type == 0)
		eas_policy_set_empty(out, EAS_POLICY_MAX_INACTIVITY_TIME_DEVICE_LOCK);
	else if (c.aef_value_seen)
		eas_policy_set(out, EAS_POLICY_MAX_INACTIVITY_TIME_DEVICE_LOCK, c.aef_value * 60);
	return 0;
}

static int wap_put_parm(eas_buf *out, const char *name, long long value)
{
	char line[96];
	snprintf(line, sizeof line, "<parm name=\"%s\" value=\"%lld\"/>", name, value);
	return eas_buf_append_str(out, line);
}

static int wap_put_section(eas_buf *out, const char *type, const char *name, long long value)
{
	int rc = eas_buf_append_str(out, "<characteristic type=\"");
	if (rc == 0)
		rc = eas_buf_append_str(out, type);
	if (rc == 0)
		rc = eas_buf_append_str(out, "\">");
	if (rc == 0)
		rc = wap_put_parm(out, name, value);
	if (rc == 0)
		rc = eas_buf_append_str(out, "</characteristic>");
	return rc;
}

#define WAP_LASSD "HKLM\\Comm\\Security\\Policy\\LASSD"

int eas_provision_wap_policy_write(eas_buf *out, const eas_policy *p)
{
	if (!out || !p)
		return EAS_E_INVALID;
	int rc = eas_buf_append_str(out, "<wap-provisioningdoc><characteristic type=\"SecurityPolicy\">");
	if (rc == 0)
		rc = wap_put_parm(out, "4131", p->device_password_enabled ? 0 : 1);
	if (rc == 0)
		rc = wap_put_parm(out, "4133", p->wap_unlock_from_computer ? 1 : 0);
	if (rc == 0)
		rc = eas_buf_append_str(out, "</characteristic><characteristic type=\"Registry\">");
	eas_policy_state st = eas_policy_state_of(p, EAS_POLICY_MAX_INACTIVITY_TIME_DEVICE_LOCK);
	if (rc == 0 && st != EAS_POLICY_ABSENT) {
		rc = eas_buf_append_str(out, "<characteristic type=\"" WAP_LASSD
					     "\\AE\\{50C13377-C66D-400C-889E-C316FC4AB374}\">");
		if (rc == 0)
			rc = wap_put_parm(out, "AEFrequencyType", st == EAS_POLICY_SET);
		if (rc == 0 && st == EAS_POLICY_SET)
			rc = wap_put_parm(out, "AEFrequencyValue", (p->max_inactivity_time_device_lock + 59u) / 60u);
		if (rc == 0)
			rc = eas_buf_append_str(out, "</characteristic>");
	}
	st = eas_policy_state_of(p, EAS_POLICY_MAX_DEVICE_PASSWORD_FAILED_ATTEMPTS);
	if (rc == 0 && st != EAS_POLICY_ABSENT)
		rc = wap_put_section(out, WAP_LASSD, "DeviceWipeThreshold",
				     st == EAS_POLICY_SET ? (long long)p->max_device_password_failed_attempts : -1);
	if (rc == 0 && eas_policy_state_of(p, EAS_POLICY_WAP_CODEWORD_FREQUENCY) == EAS_POLICY_SET)
		rc = wap_put_section(out, WAP_LASSD, "CodewordFrequency", p->wap_codeword_frequency);
	st = eas_policy_state_of(p, EAS_POLICY_MIN_DEVICE_PASSWORD_LENGTH);
	if (rc == 0 && st != EAS_POLICY_ABSENT)
		rc = wap_put_section(out, WAP_LASSD "\\LAP\\lap_pw", "MinimumPasswordLength",
				     st == EAS_POLICY_SET ? (long long)p->min_device_password_length : 0);
	if (rc == 0 && eas_policy_state_of(p, EAS_POLICY_ALPHANUMERIC_DEVICE_PASSWORD_REQUIRED) == EAS_POLICY_SET)
		rc = wap_put_section(out, WAP_LASSD "\\LAP\\lap_pw", "PasswordComplexity",
				     p->alphanumeric_device_password_required ? 0 : 2);
	if (rc == 0)
		rc = eas_buf_append_str(out, "</characteristic></wap-provisioningdoc>");
	return rc;
}

/* ==== request ================================================================== */

const char *eas_provision_policy_type(unsigned version)
{
	if (version == EAS_PROTO_2_5)
		return EAS_POLICY_TYPE_WAP_XML;
	if (version && !(version & (version - 1)) && (version & EAS_PROTO_ALL))
		return EAS_POLICY_TYPE_EAS_WBXML;
	return NULL;
}

static int put_status_block(eas_wbxml_encoder *enc, eas_tag tag, eas_tag status_tag, uint32_t status)
{
	int rc = eas_wbxml_encoder_start(enc, tag);
	if (rc == 0)
		rc = eas__cmd_put_uint(enc, status_tag, status);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

int eas_provision_request_encode(eas_wbxml_encoder *enc, const eas_provision_request *req)
{
	if (!enc || !req)
		return EAS_E_INVALID;
	if (req->remote_wipe_status > EAS_WIPE_ACK_FAILURE || req->account_only_remote_wipe_status > EAS_WIPE_ACK_FAILURE)
		return EAS_E_INVALID;
	if (req->policy_key && (!req->policy_type || req->policy_status < EAS_POLICY_ACK_APPLIED ||
				req->policy_status > EAS_POLICY_ACK_THIRD_PARTY))
		return EAS_E_INVALID;
	if (!req->policy_key && req->policy_status)
		return EAS_E_INVALID;
	if (req->has_device_info && (req->policy_key || !req->device_info.model))
		return EAS_E_INVALID; /* initial request only, Model required (MS-ASPROV 2.2.2.53) */
	unsigned v = req->protocol_version;
	if (v) {
		const char *type = eas_provision_policy_type(v);
		if (!type)
			return EAS_E_INVALID;
		if (req->policy_type && strcmp(req->policy_type, type) != 0)
			return EAS_E_INVALID;
		if (req->has_device_info && v < EAS_PROTO_14_1)
			return EAS_E_INVALID; /* MUST NOT before 14.1 */
		if (v >= EAS_PROTO_14_1 && req->policy_type && !req->policy_key && !req->has_device_info)
			return EAS_E_INVALID; /* MUST in a 14.1+ initial request */
	}
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_PROVISION_PROVISION);
	if (rc == 0 && req->has_device_info)
		rc = eas_settings_device_info_encode(enc, &req->device_info);
	if (rc == 0 && req->policy_type) {
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_PROVISION_POLICIES);
		if (rc == 0)
			rc = eas_wbxml_encoder_start(enc, EAS_TAG_PROVISION_POLICY);
		if (rc == 0)
			rc = eas_wbxml_encoder_element(enc, EAS_TAG_PROVISION_POLICY_TYPE, req->policy_type);
		if (rc == 0 && req->policy_key) {
			rc = eas_wbxml_encoder_element(enc, EAS_TAG_PROVISION_POLICY_KEY, req->policy_key);
			if (rc == 0)
				rc = eas__cmd_put_uint(enc, EAS_TAG_PROVISION_STATUS, req->policy_status);
		}
		if (rc == 0)
			rc = eas_wbxml_encoder_end(enc);
		if (rc == 0)
			rc = eas_wbxml_encoder_end(enc);
	}
	if (rc == 0 && req->remote_wipe_status)
		rc = put_status_block(enc, EAS_TAG_PROVISION_REMOTE_WIPE, EAS_TAG_PROVISION_STATUS, req->remote_wipe_status);
	if (rc == 0 && req->account_only_remote_wipe_status)
		rc = put_status_block(enc, EAS_TAG_PROVISION_ACCOUNT_ONLY_REMOTE_WIPE, EAS_TAG_PROVISION_STATUS,
				      req->account_only_remote_wipe_status);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

static int wipe_ack_status(uint32_t *out, const eas_node *wipe, const char *name, char *err, size_t err_size)
{
	if (!eas_node_child(wipe, EAS_TAG_PROVISION_STATUS))
		return eas__cmd_malformed(err, err_size, "missing Provision:Status in Provision:%s", name);
	int rc = eas__cmd_uint(out, wipe, EAS_TAG_PROVISION_STATUS, err, err_size);
	if (rc == 0 && (*out < EAS_WIPE_ACK_SUCCESS || *out > EAS_WIPE_ACK_FAILURE))
		rc = eas__cmd_malformed(err, err_size, "Provision:Status in Provision:%s out of range: %lu (1-2)", name,
					(unsigned long)*out);
	return rc;
}

int eas_provision_request_decode(eas_provision_request *out, const eas_node *root, char *err, size_t err_size)
{
	memset(out, 0, sizeof *out);
	int rc = eas__cmd_expect_root(root, EAS_TAG_PROVISION_PROVISION, err, err_size);
	if (rc)
		return rc;
	const eas_node *di = eas_node_child(root, EAS_TAG_SETTINGS_DEVICE_INFORMATION);
	if (di) {
		out->has_device_info = 1;
		if ((rc = eas_settings_device_info_decode(&out->device_info, di, err, err_size)) != 0)
			return rc;
	}
	const eas_node *policies = eas_node_child(root, EAS_TAG_PROVISION_POLICIES);
	if (policies) {
		const eas_node *policy = eas_node_child(policies, EAS_TAG_PROVISION_POLICY);
		if (!policy)
			return eas__cmd_malformed(err, err_size, "missing Provision:Policy");
		rc = eas__cmd_text(&out->policy_type, policy, EAS_TAG_PROVISION_POLICY_TYPE, err, err_size);
		if (rc)
			return rc;
		out->policy_key = eas_node_child_text(policy, EAS_TAG_PROVISION_POLICY_KEY);
		int has_status = eas_node_child(policy, EAS_TAG_PROVISION_STATUS) != NULL;
		if (out->policy_key && !has_status)
			return eas__cmd_malformed(err, err_size, "Provision:PolicyKey without Provision:Status");
		if (has_status && !out->policy_key)
			return eas__cmd_malformed(err, err_size, "Provision:Status without Provision:PolicyKey");
		if (has_status) {
			rc = eas__cmd_uint(&out->policy_status, policy, EAS_TAG_PROVISION_STATUS, err, err_size);
			if (rc)
				return rc;
			if (out->policy_status < EAS_POLICY_ACK_APPLIED || out->policy_status > EAS_POLICY_ACK_THIRD_PARTY)
				return eas__cmd_malformed(err, err_size, "Provision:Status of Policy out of range: %lu (1-4)",
							  (unsigned long)out->policy_status);
		}
	}
	const eas_node *wipe = eas_node_child(root, EAS_TAG_PROVISION_REMOTE_WIPE);
	if (wipe && (rc = wipe_ack_status(&out->remote_wipe_status, wipe, "RemoteWipe", err, err_size)) != 0)
		return rc;
	wipe = eas_node_child(root, EAS_TAG_PROVISION_ACCOUNT_ONLY_REMOTE_WIPE);
	if (wipe && (rc = wipe_ack_status(&out->account_only_remote_wipe_status, wipe, "AccountOnlyRemoteWipe", err,
					   err_size)) != 0)
		return rc;
	return 0;
}

/* ==== response ================================================================= */

void eas_provision_response_init(eas_provision_response *r)
{
	if (!r)
		return;
	memset(r, 0, sizeof *r);
	eas_policy_init(&r->policy);
}

void eas_provision_response_clear(eas_provision_response *r)
{
	if (!r)
		return;
	eas_policy_clear(&r->policy);
	eas_provision_response_init(r);
}

int eas_provision_response_encode(eas_wbxml_encoder *enc, const eas_provision_response *resp)
{
	if (!enc || !resp || (unsigned)resp->data > EAS_PROVISION_DATA_WAP_XML)
		return EAS_E_INVALID;
	if (resp->has_policy && !resp->policy_type)
		return EAS_E_INVALID;
	if (resp->data != EAS_PROVISION_DATA_NONE && !resp->has_policy)
		return EAS_E_INVALID;
	if (resp->data == EAS_PROVISION_DATA_WAP_XML && !resp->wap_xml)
		return EAS_E_INVALID;
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_PROVISION_PROVISION);
	if (rc == 0 && resp->has_device_info)
		rc = put_status_block(enc, EAS_TAG_SETTINGS_DEVICE_INFORMATION, EAS_TAG_SETTINGS_STATUS,
				      resp->device_info_status);
	if (rc == 0)
		rc = eas__cmd_put_uint(enc, EAS_TAG_PROVISION_STATUS, resp->status);
	if (rc == 0 && resp->has_policy) {
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_PROVISION_POLICIES);
		if (rc == 0)
			rc = eas_wbxml_encoder_start(enc, EAS_TAG_PROVISION_POLICY);
		if (rc == 0)
			rc = eas_wbxml_encoder_element(enc, EAS_TAG_PROVISION_POLICY_TYPE, resp->policy_type);
		if (rc == 0)
			rc = eas__cmd_put_uint(enc, EAS_TAG_PROVISION_STATUS, resp->policy_status);
		if (rc == 0)
			rc = eas__cmd_put_opt(enc, EAS_TAG_PROVISION_POLICY_KEY, resp->policy_key);
		if (rc == 0 && resp->data == EAS_PROVISION_DATA_EAS_DOC) {
			rc = eas_wbxml_encoder_start(enc, EAS_TAG_PROVISION_DATA);
			if (rc == 0)
				rc = eas_provision_doc_encode(enc, &resp->policy);
			if (rc == 0)
				rc = eas_wbxml_encoder_end(enc);
		} else if (rc == 0 && resp->data == EAS_PROVISION_DATA_WAP_XML) {
			rc = eas_wbxml_encoder_element(enc, EAS_TAG_PROVISION_DATA, resp->wap_xml);
		}
		if (rc == 0)
			rc = eas_wbxml_encoder_end(enc);
		if (rc == 0)
			rc = eas_wbxml_encoder_end(enc);
	}
	if (rc == 0 && resp->remote_wipe)
		rc = eas_wbxml_encoder_empty(enc, EAS_TAG_PROVISION_REMOTE_WIPE);
	if (rc == 0 && resp->account_only_remote_wipe)
		rc = eas_wbxml_encoder_empty(enc, EAS_TAG_PROVISION_ACCOUNT_ONLY_REMOTE_WIPE);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

/* The policy key goes into an HTTP header later: at most 64 printable ASCII characters. */
static int check_policy_key(const eas_node *key, char *err, size_t err_size)
{
	if (key->text_len > 64)
		return eas__cmd_malformed(err, err_size, "Provision:PolicyKey longer than 64 characters");
	for (size_t i = 0; i < key->text_len; i++)
		if ((unsigned char)key->text[i] < 0x21 || (unsigned char)key->text[i] > 0x7E)
			return eas__cmd_malformed(err, err_size, "Provision:PolicyKey holds a character outside printable ASCII");
	return 0;
}

static int decode_policy(eas_provision_response *out, const eas_node *policy, const eas_mem *mem, char *err,
			 size_t err_size)
{
	int rc = eas__cmd_text(&out->policy_type, policy, EAS_TAG_PROVISION_POLICY_TYPE, err, err_size);
	if (rc == 0 && !eas_node_child(policy, EAS_TAG_PROVISION_STATUS))
		rc = eas__cmd_malformed(err, err_size, "missing Provision:Status in Provision:Policy");
	if (rc == 0)
		rc = eas__cmd_uint(&out->policy_status, policy, EAS_TAG_PROVISION_STATUS, err, err_size);
	if (rc)
		return rc;
	const eas_node *key = eas_node_child(policy, EAS_TAG_PROVISION_POLICY_KEY);
	if (key) {
		if ((rc = check_policy_key(key, err, err_size)) != 0)
			return rc;
		out->policy_key = key->text;
	}
	const eas_node *data = eas_node_child(policy, EAS_TAG_PROVISION_DATA);
	if (!data)
		return 0;
	if (strcmp(out->policy_type, EAS_POLICY_TYPE_EAS_WBXML) == 0) {
		const eas_node *doc = eas_node_child(data, EAS_TAG_PROVISION_EAS_PROVISION_DOC);
		if (!doc)
			return eas__cmd_malformed(err, err_size,
						  "Provision:Data of " EAS_POLICY_TYPE_EAS_WBXML " without Provision:EASProvisionDoc");
		out->data = EAS_PROVISION_DATA_EAS_DOC;
		return eas_provision_doc_decode(&out->policy, doc, mem, err, err_size);
	}
	if (strcmp(out->policy_type, EAS_POLICY_TYPE_WAP_XML) == 0) {
		if (data->first)
			return eas__cmd_malformed(err, err_size,
						  "Provision:Data of " EAS_POLICY_TYPE_WAP_XML " holds elements, not XML text");
		out->data = EAS_PROVISION_DATA_WAP_XML;
		out->wap_xml = data->text;
		out->wap_xml_len = data->text_len;
		return eas_provision_wap_policy_parse(&out->policy, data->text, data->text_len, mem, err, err_size);
	}
	return 0; /* a PolicyType this version does not know: ignored (MS-ASPROV 3.1.5.1.1) */
}

int eas_provision_response_decode(eas_provision_response *out, const eas_node *root, const eas_mem *mem,
				  char *err, size_t err_size)
{
	eas_provision_response_init(out);
	int rc = eas__cmd_expect_root(root, EAS_TAG_PROVISION_PROVISION, err, err_size);
	if (rc == 0)
		rc = eas__cmd_uint(&out->status, root, EAS_TAG_PROVISION_STATUS, err, err_size);
	const eas_node *di = eas_node_child(root, EAS_TAG_SETTINGS_DEVICE_INFORMATION);
	if (rc == 0 && di) {
		out->has_device_info = 1;
		if (!eas_node_child(di, EAS_TAG_SETTINGS_STATUS))
			rc = eas__cmd_malformed(err, err_size, "missing Settings:Status in Settings:DeviceInformation");
		else
			rc = eas__cmd_uint(&out->device_info_status, di, EAS_TAG_SETTINGS_STATUS, err, err_size);
	}
	const eas_node *policies = eas_node_child(root, EAS_TAG_PROVISION_POLICIES);
	if (rc == 0 && policies) {
		const eas_node *policy = eas_node_child(policies, EAS_TAG_PROVISION_POLICY);
		if (!policy) {
			rc = eas__cmd_malformed(err, err_size, "missing Provision:Policy");
		} else {
			out->has_policy = 1;
			rc = decode_policy(out, policy, mem, err, err_size);
		}
	}
	if (rc == 0) {
		out->remote_wipe = eas_node_child(root, EAS_TAG_PROVISION_REMOTE_WIPE) != NULL;
		out->account_only_remote_wipe = eas_node_child(root, EAS_TAG_PROVISION_ACCOUNT_ONLY_REMOTE_WIPE) != NULL;
	} else {
		eas_provision_response_clear(out);
	}
	return rc;
}
