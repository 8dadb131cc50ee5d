/* Growable byte buffer with a cap. */
#include "buf.h"

#include <string.h>

#include "mem.h"

void eas_buf_init(eas_buf *b, const eas_mem *mem, size_t max)
{
	memset(b, 0, sizeof *b);
	eas__mem_init(&b->mem, mem);
	b->max = max;
}

int eas_buf_append(eas_buf *b, const void *data, size_t len)
{
	if (b->result)
		return b->result;
	if (len == 0)
		return 0;
	if (b->max && (len > b->max || b->len > b->max - len))
		return b->result = EAS_E_LIMIT;
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + len)
			cap *= 2;
		if (b->max && cap > b->max)
			cap = b->max;
		uint8_t *d = eas__realloc(&b->mem, b->data, cap);
		if (!d)
			return b->result = EAS_E_NOMEM;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

int eas_buf_append_str(eas_buf *b, const char *s)
{
	return eas_buf_append(b, s, strlen(s));
}

uint8_t *eas_buf_steal(eas_buf *b, size_t *len)
{
	uint8_t *d = b->data;
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->cap = 0;
	return d;
}

void eas_buf_reset(eas_buf *b)
{
	b->len = 0;
	b->result = 0;
}

void eas_buf_free(eas_buf *b)
{
	eas__free(&b->mem, b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

int eas_buf_sink(const uint8_t *bytes, size_t len, void *user_data)
{
	return eas_buf_append(user_data, bytes, len);
}
