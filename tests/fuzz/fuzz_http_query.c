/*
 * libFuzzer target: the MS-ASHTTP query decoder (plain and base64 forms), the
 * first thing the companion server runs on a request.  Whatever decodes must
 * re-encode in the same form and decode to the same fields.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eas/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void check_same(const eas_http_query *a, const eas_http_query *b)
{
	if (a->command != b->command || a->device_id_len != b->device_id_len ||
	    memcmp(a->device_id, b->device_id, a->device_id_len) != 0 || !same_str(a->device_type, b->device_type) ||
	    !same_str(a->user, b->user) || !same_str(a->collection_id, b->collection_id) ||
	    !same_str(a->item_id, b->item_id) || !same_str(a->attachment_name, b->attachment_name))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	eas_http_query q = EAS_HTTP_QUERY_INIT;
	if (eas_http_query_decode(&q, (const char *)data, size, NULL) != 0)
		return 0;
	/* The form decides which encoder must reproduce it. */
	int plain = memchr(data, '&', size) != NULL || (size >= 4 && memcmp(data, "Cmd=", 4) == 0) ||
		    (size >= 5 && memcmp(data, "?Cmd=", 5) == 0);
	char *again = NULL;
	int rc = plain ? eas_http_query_encode_plain(&again, &q, NULL) : eas_http_query_encode_base64(&again, &q, NULL);
	if (rc == 0) {
		eas_http_query back = EAS_HTTP_QUERY_INIT;
		if (eas_http_query_decode(&back, again, strlen(again), NULL) != 0)
			abort(); /* our own encoding must decode */
		check_same(&q, &back);
		eas_http_query_clear(&back);
	}
	eas_http_string_free(again, NULL);
	eas_http_query_clear(&q);
	return 0;
}
