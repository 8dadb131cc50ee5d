/*
 * The MS-ASAcceptMultiPart body of an ItemOperations response (MS-ASCMD
 * 2.2.1.10.1.1), both directions.  Content-Type
 * "application/vnd.ms-sync.multipart"; all integers are 32-bit little-endian:
 *
 *   PartsCount               (4)
 *   PartMetaData[PartsCount] (8 each: Offset (4), Length (4))
 *   Parts                    (bytes; Offset counts from the first byte of PartsCount)
 *
 * Part 0 is the WBXML ItemOperations response; each Part element in it
 * (ItemOperations:Part, in Properties or airsyncbase:Body) is an index
 * into PartMetaData.  A client fed the body in chunks gets part 0 first
 * (feed it to the WBXML decoder as it comes) and every other part as a
 * stream, so a 50 MB attachment never sits in memory.
 *
 * Both parsers accept exactly the same bodies and fail with the same codes:
 *  - EAS_E_TRUNCATED: the header or a part runs past the end of the body;
 *  - EAS_E_LIMIT: PartsCount above the caller's max_parts;
 *  - EAS_E_MALFORMED: PartsCount 0 (the WBXML is always part 0), a part
 *    that starts inside the header, or parts that overlap (after sorting by
 *    offset, a part starting before the end of the one before it).
 * Bytes between or after the parts are ignored.
 *
 * The writer lays parts out one after the other, in index order, right
 * after the header.
 */
#ifndef EAS_SRC_COMMANDS_MULTIPART_H
#define EAS_SRC_COMMANDS_MULTIPART_H

#include <stddef.h>
#include <stdint.h>

#include "eas/common.h"

#define EAS_MULTIPART_CONTENT_TYPE "application/vnd.ms-sync.multipart"
/* A sensible max_parts: one WBXML part and up to 1023 fetched items. */
#define EAS_MULTIPART_DEFAULT_MAX_PARTS 1024u

/* Bytes of the header (PartsCount and the metadata) for `count` parts. */
#define EAS_MULTIPART_HEADER_SIZE(count) (4u + 8u * (uint64_t)(count))

/* ---- whole body in memory ---------------------------------------------------- */

typedef struct eas_multipart_view {
	const uint8_t *data; /* the body (borrowed) */
	size_t len;
	uint32_t count;      /* PartsCount */
} eas_multipart_view;

/*
 * Checks the whole body (see the rules above) and fills *out.  max_parts 0
 * means EAS_MULTIPART_DEFAULT_MAX_PARTS.  err (optional) gets a message.
 * Allocates nothing; the overlap check compares every pair of parts, so
 * keep max_parts modest (the default costs at most ~half a million
 * comparisons).
 */
int eas_multipart_parse(eas_multipart_view *out, const uint8_t *data, size_t len, uint32_t max_parts,
			char *err, size_t err_size);
/* Part `index` of a checked body: *bytes points into the body.  EAS_E_NOTFOUND past the count. */
int eas_multipart_part(const eas_multipart_view *v, uint32_t index, const uint8_t **bytes, size_t *len);

/* ---- streaming parser -------------------------------------------------------- */

/*
 * Callbacks return 0 to go on, EAS_E_PAUSED to stop after this event
 * (feed returns EAS_E_PAUSED with *consumed telling how far it got; feed the
 * rest again), or another negative value to abort (EAS_E_CALLBACK).
 * Parts come in the order of their offsets; for each, part_begin, then
 * part_data zero or more times, then part_end (also for empty parts).
 */
#define EAS_MULTIPART_CALLBACKS_VERSION 1
typedef struct eas_multipart_callbacks {
	int version; /* EAS_MULTIPART_CALLBACKS_VERSION */
	/* The header is complete: count parts (optional). */
	int (*header)(uint32_t count, void *user_data);
	int (*part_begin)(uint32_t index, uint32_t length, void *user_data);
	int (*part_data)(uint32_t index, const uint8_t *bytes, size_t len, void *user_data);
	int (*part_end)(uint32_t index, void *user_data);
} eas_multipart_callbacks;

typedef struct eas_multipart_parser eas_multipart_parser;

/* max_parts 0 = EAS_MULTIPART_DEFAULT_MAX_PARTS; mem NULL = libc.  Returns 0, EAS_E_NOMEM, EAS_E_INVALID. */
int eas_multipart_parser_new(eas_multipart_parser **out, const eas_multipart_callbacks *cb, uint32_t max_parts,
			     const eas_mem *mem, void *user_data);
void eas_multipart_parser_free(eas_multipart_parser *p);
/*
 * Feeds the next bytes (any split).  Returns 0, EAS_E_PAUSED, or a sticky
 * error (EAS_E_MALFORMED, EAS_E_LIMIT, EAS_E_NOMEM, EAS_E_CALLBACK).
 * consumed may be NULL.
 */
int eas_multipart_parser_feed(eas_multipart_parser *p, const uint8_t *data, size_t len, size_t *consumed);
/* End of the body: 0 when every part was delivered, else EAS_E_TRUNCATED (or the earlier error). */
int eas_multipart_parser_finish(eas_multipart_parser *p);
/* The first error's message, or NULL. */
const char *eas_multipart_parser_error(const eas_multipart_parser *p);

/* ---- writer ------------------------------------------------------------------ */

/*
 * Writes the header for parts of these lengths laid out in index order
 * right after it: out must hold EAS_MULTIPART_HEADER_SIZE(count) bytes.
 * EAS_E_INVALID for count 0 or a too small buffer, EAS_E_LIMIT when the
 * body would pass 4 GiB (offsets are 32-bit).  The caller then writes the
 * parts' bytes in order.
 */
int eas_multipart_header_encode(uint8_t *out, size_t out_size, const uint64_t *lengths, uint32_t count);

#endif
