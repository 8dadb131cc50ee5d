/* Argument checks shared by the state store implementations (see store_check.h). */
#include "client/store_check.h"

#include <string.h>

/* strnlen is POSIX 2008; this bounded scan never reads past max + 1 bytes. */
static size_t bounded_len(const char *s, size_t max)
{
	const char *nul = memchr(s, '\0', max + 1);
	return nul ? (size_t)(nul - s) : max + 1;
}

int eas__store_check_str(const char *s, size_t max)
{
	if (!s || !*s)
		return EAS_E_INVALID;
	return bounded_len(s, max) <= max ? 0 : EAS_E_INVALID;
}

int eas__store_check_opt(const char *s, size_t max)
{
	if (!s)
		return 0;
	return bounded_len(s, max) <= max ? 0 : EAS_E_INVALID;
}

const char *eas__store_or(const char *s, const char *dflt)
{
	return s ? s : dflt;
}

int eas__store_check_value(const char *key, const char *value)
{
	if (eas__store_check_str(key, EAS_STORE_NAME_MAX) || eas__store_check_opt(value, EAS_STORE_NAME_MAX))
		return EAS_E_INVALID;
	return 0;
}

int eas__store_check_folder(const eas_store_folder *f)
{
	if (!f || eas__store_check_str(f->server_id, EAS_STORE_ID_MAX) ||
	    eas__store_check_opt(f->parent_id, EAS_STORE_ID_MAX) ||
	    eas__store_check_opt(f->display_name, EAS_STORE_NAME_MAX) ||
	    eas__store_check_opt(f->sync_key, EAS_STORE_ID_MAX) ||
	    eas__store_check_opt(f->class_name, EAS_STORE_CLASS_MAX))
		return EAS_E_INVALID;
	return 0;
}

int eas__store_check_item(const eas_store_item *item)
{
	if (!item || eas__store_check_str(item->folder_id, EAS_STORE_ID_MAX) ||
	    eas__store_check_str(item->server_id, EAS_STORE_ID_MAX) ||
	    eas__store_check_opt(item->class_name, EAS_STORE_CLASS_MAX))
		return EAS_E_INVALID;
	if ((item->data_len && !item->data) || item->read < 0 || item->read > 1 || item->flag_status < 0 ||
	    item->flag_status > 2)
		return EAS_E_INVALID;
	return 0;
}

int eas__store_check_change(const eas_store_change *c)
{
	if (!c || eas__store_check_str(c->folder_id, EAS_STORE_ID_MAX) ||
	    eas__store_check_opt(c->server_id, EAS_STORE_ID_MAX) ||
	    eas__store_check_opt(c->client_id, EAS_STORE_ID_MAX) ||
	    eas__store_check_opt(c->class_name, EAS_STORE_CLASS_MAX) ||
	    eas__store_check_opt(c->dest_folder_id, EAS_STORE_ID_MAX) || (c->data_len && !c->data))
		return EAS_E_INVALID;
	switch (c->kind) {
	case EAS_STORE_CHANGE_ADD:
		return eas__store_check_str(c->client_id, EAS_STORE_ID_MAX);
	case EAS_STORE_CHANGE_CHANGE:
	case EAS_STORE_CHANGE_DELETE:
		return eas__store_check_str(c->server_id, EAS_STORE_ID_MAX);
	case EAS_STORE_CHANGE_READ:
		if (c->value < 0 || c->value > 1)
			return EAS_E_INVALID;
		return eas__store_check_str(c->server_id, EAS_STORE_ID_MAX);
	case EAS_STORE_CHANGE_FLAG:
		if (c->value < 0 || c->value > 2)
			return EAS_E_INVALID;
		return eas__store_check_str(c->server_id, EAS_STORE_ID_MAX);
	case EAS_STORE_CHANGE_MOVE:
		if (eas__store_check_str(c->dest_folder_id, EAS_STORE_ID_MAX))
			return EAS_E_INVALID;
		return eas__store_check_str(c->server_id, EAS_STORE_ID_MAX);
	}
	return EAS_E_INVALID;
}
