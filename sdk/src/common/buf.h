/* A growable byte buffer with a size cap, and a WBXML encoder sink writing into it. */
#ifndef EAS_SRC_BUF_H
#define EAS_SRC_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "eas/common.h"

typedef struct eas_buf {
	eas_mem mem;
	uint8_t *data;
	size_t len, cap;
	size_t max;    /* 0 = no cap */
	int result;    /* sticky: EAS_E_NOMEM or EAS_E_LIMIT once failed */
} eas_buf;

void eas_buf_init(eas_buf *b, const eas_mem *mem, size_t max);
int eas_buf_append(eas_buf *b, const void *data, size_t len);
int eas_buf_append_str(eas_buf *b, const char *s);
/* Hands the bytes to the caller (to free with the same eas_mem) and empties b. */
uint8_t *eas_buf_steal(eas_buf *b, size_t *len);
void eas_buf_reset(eas_buf *b);
void eas_buf_free(eas_buf *b);

/* eas_wbxml_sink that appends to the eas_buf passed as user_data. */
int eas_buf_sink(const uint8_t *bytes, size_t len, void *user_data);

#endif
