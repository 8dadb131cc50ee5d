/* Error strings, library version and protocol version names. */
#include "eas/common.h"
#include "eas_config.h"

#include <string.h>

const char *eas_strerror(int err)
{
	switch ((eas_error)err) {
	case EAS_OK: return "success";
	case EAS_E_NOMEM: return "out of memory";
	case EAS_E_INVALID: return "invalid argument";
	case EAS_E_LIMIT: return "limit exceeded";
	case EAS_E_MALFORMED: return "malformed input";
	case EAS_E_UNSUPPORTED: return "not supported";
	case EAS_E_TRUNCATED: return "input truncated";
	case EAS_E_STATE: return "invalid state for this call";
	case EAS_E_PAUSED: return "paused by callback";
	case EAS_E_IO: return "I/O error";
	case EAS_E_NOTFOUND: return "not found";
	case EAS_E_AUTH: return "authentication failed";
	case EAS_E_TLS: return "TLS error";
	case EAS_E_PROTOCOL: return "protocol error";
	case EAS_E_CANCELLED: return "cancelled";
	case EAS_E_CALLBACK: return "callback failed";
	}
	return "unknown error";
}

const char *eas_version(void)
{
	return EAS_VERSION_STRING;
}

static const char *const version_names[] = { "2.5", "12.0", "12.1", "14.0", "14.1", "16.0", "16.1" };

const char *eas_protocol_version_name(unsigned version)
{
	for (unsigned i = 0; i < 7; i++)
		if (version == (1u << i))
			return version_names[i];
	return NULL;
}

int eas_protocol_version_parse(unsigned *out, const char *text)
{
	if (!out || !text)
		return EAS_E_INVALID;
	for (unsigned i = 0; i < 7; i++)
		if (strcmp(text, version_names[i]) == 0) {
			*out = 1u << i;
			return 0;
		}
	return EAS_E_INVALID;
}
