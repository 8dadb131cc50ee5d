/* Helpers every mailbox store implementation shares: password KDF, constant-time compare, keys. */
#include "server/store.h"

#include <stdio.h>
#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

const eas_mstore_default_folder eas_mstore_default_folders[EAS_MSTORE_DEFAULT_FOLDER_COUNT] = {
	{ EAS_MSTORE_FOLDER_INBOX, "Inbox" },
	{ EAS_MSTORE_FOLDER_DRAFTS, "Drafts" },
	{ EAS_MSTORE_FOLDER_DELETED, "Deleted Items" },
	{ EAS_MSTORE_FOLDER_SENT, "Sent Items" },
	{ EAS_MSTORE_FOLDER_OUTBOX, "Outbox" },
	{ EAS_MSTORE_FOLDER_TASKS, "Tasks" },
	{ EAS_MSTORE_FOLDER_CALENDAR, "Calendar" },
	{ EAS_MSTORE_FOLDER_CONTACTS, "Contacts" },
	{ EAS_MSTORE_FOLDER_NOTES, "Notes" },
	{ EAS_MSTORE_FOLDER_JOURNAL, "Journal" },
};

int eas_mstore_pbkdf2(uint8_t out[32], const char *password, size_t password_len,
		      const uint8_t *salt, size_t salt_len, uint32_t iterations)
{
	if (!out || (!password && password_len) || !salt || !salt_len || !iterations)
		return EAS_E_INVALID;
	const mbedtls_md_info_t *info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	if (!info)
		return EAS_E_UNSUPPORTED;
	mbedtls_md_context_t ctx;
	mbedtls_md_init(&ctx);
	int rc = mbedtls_md_setup(&ctx, info, 1);
	if (rc == 0)
		rc = mbedtls_pkcs5_pbkdf2_hmac(&ctx, (const unsigned char *)password, password_len,
					       salt, salt_len, iterations, 32, out);
	mbedtls_md_free(&ctx);
	if (rc == MBEDTLS_ERR_MD_ALLOC_FAILED)
		return EAS_E_NOMEM;
	return rc ? EAS_E_INVALID : 0;
}

int eas_mstore_equal_ct(const void *a, const void *b, size_t n)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char diff = 0;
	for (size_t i = 0; i < n; i++)
		diff |= (unsigned char)(x[i] ^ y[i]);
	/* 1 when diff == 0, without a branch on diff */
	return (int)(1u & (((unsigned)diff - 1u) >> 8));
}

int eas_mstore_sha256(uint8_t out[32], const void *data, size_t len)
{
	if (!out || (!data && len))
		return EAS_E_INVALID;
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
	return mbedtls_sha256(data, len, out, 0) ? EAS_E_INVALID : 0;
#else
	return mbedtls_sha256_ret(data, len, out, 0) ? EAS_E_INVALID : 0;
#endif
}

int eas_mstore_folder_type_creatable(uint32_t type)
{
	return type == EAS_MSTORE_FOLDER_GENERIC ||
	       (type >= EAS_MSTORE_FOLDER_USER_MAIL && type <= EAS_MSTORE_FOLDER_USER_NOTES);
}

void eas_mstore_key_generation(char out[33], const uint8_t random16[16])
{
	static const char hex[] = "0123456789abcdef";
	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex[random16[i] >> 4];
		out[2 * i + 1] = hex[random16[i] & 15];
	}
	out[32] = 0;
}

void eas_mstore_key_format(char *out, const char *generation, int64_t counter)
{
	snprintf(out, EAS_MSTORE_ID_SIZE, "{%.32s}%lld", generation, (long long)counter);
}

const char *eas_mstore_result_name(eas_mstore_result r)
{
	switch (r) {
	case EAS_MSTORE_OK: return "ok";
	case EAS_MSTORE_NOT_FOUND: return "not found";
	case EAS_MSTORE_PARENT_NOT_FOUND: return "parent not found";
	case EAS_MSTORE_EXISTS: return "exists";
	case EAS_MSTORE_SPECIAL_FOLDER: return "special folder";
	case EAS_MSTORE_INVALID_PARENT: return "invalid parent";
	case EAS_MSTORE_DEST_NOT_FOUND: return "destination not found";
	case EAS_MSTORE_SAME_FOLDER: return "same folder";
	}
	return "?";
}

const char *eas_mstore_key_match_name(eas_mstore_key_match m)
{
	switch (m) {
	case EAS_MSTORE_KEY_INITIAL: return "initial";
	case EAS_MSTORE_KEY_CURRENT: return "current";
	case EAS_MSTORE_KEY_PREVIOUS: return "previous";
	case EAS_MSTORE_KEY_STALE: return "stale";
	}
	return "?";
}

int eas_mstore_valid_text(const char *s, size_t max)
{
	if (!s || !*s)
		return 0;
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++)
		if (*p < 0x20 || *p == 0x7f || n >= max)
			return 0;
	return 1;
}

const char *eas_mstore_folder_class(uint32_t type)
{
	switch (type) {
	case EAS_MSTORE_FOLDER_TASKS:
	case EAS_MSTORE_FOLDER_USER_TASKS:
		return "Tasks";
	case EAS_MSTORE_FOLDER_CALENDAR:
	case EAS_MSTORE_FOLDER_USER_CALENDAR:
		return "Calendar";
	case EAS_MSTORE_FOLDER_CONTACTS:
	case EAS_MSTORE_FOLDER_USER_CONTACTS:
		return "Contacts";
	case EAS_MSTORE_FOLDER_NOTES:
	case EAS_MSTORE_FOLDER_USER_NOTES:
		return "Notes";
	default:
		return "Email";
	}
}
