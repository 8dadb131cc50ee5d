/* MS-ASAcceptMultiPart body framing (MS-ASCMD 2.2.1.10.1.1): parse (whole or streaming) and write. */
#include "multipart.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

typedef struct entry {
	uint32_t offset, length, index;
} entry;

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int fail(char *err, size_t err_size, int code, const char *fmt, ...)
{
	if (err && err_size) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, err_size, fmt, ap);
		va_end(ap);
	}
	return code;
}

/* PartsCount against the limits (the same rule for both parsers). */
static int check_count(uint32_t count, uint32_t max_parts, char *err, size_t err_size)
{
	if (count == 0)
		return fail(err, err_size, EAS_E_MALFORMED, "multipart body with no parts (the WBXML is part 0)");
	if (count > max_parts)
		return fail(err, err_size, EAS_E_LIMIT, "multipart body with %lu parts, more than %lu",
			    (unsigned long)count, (unsigned long)max_parts);
	return 0;
}

static int by_offset(const void *a, const void *b)
{
	const entry *x = a, *y = b;
	if (x->offset != y->offset)
		return x->offset < y->offset ? -1 : 1;
	if (x->length != y->length)
		return x->length < y->length ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Sorts the entries by offset and checks the layout (the same rule for both parsers). */
static int check_layout(entry *e, uint32_t count, char *err, size_t err_size)
{
	uint64_t header = EAS_MULTIPART_HEADER_SIZE(count);
	for (uint32_t i = 0; i < count; i++)
		if (e[i].offset < header)
			return fail(err, err_size, EAS_E_MALFORMED,
				    "multipart part %lu starts at byte %lu, inside the %llu-byte header",
				    (unsigned long)e[i].index, (unsigned long)e[i].offset, (unsigned long long)header);
	qsort(e, count, sizeof *e, by_offset);
	uint64_t end = header;
	uint32_t last = 0;
	for (uint32_t i = 0; i < count; i++) {
		if (e[i].offset < end)
			return fail(err, err_size, EAS_E_MALFORMED, "multipart part %lu overlaps part %lu",
				    (unsigned long)e[i].index, (unsigned long)last);
		end = (uint64_t)e[i].offset + e[i].length;
		last = e[i].index;
	}
	return 0;
}

int eas_multipart_parse(eas_multipart_view *out, const uint8_t *data, size_t len, uint32_t max_parts,
			char *err, size_t err_size)
{
	if (!out || (!data && len))
		return EAS_E_INVALID;
	memset(out, 0, sizeof *out);
	if (max_parts == 0)
		max_parts = EAS_MULTIPART_DEFAULT_MAX_PARTS;
	if (len < 4)
		return fail(err, err_size, EAS_E_TRUNCATED, "multipart body ends inside PartsCount");
	uint32_t count = get_le32(data);
	int rc = check_count(count, max_parts, err, err_size);
	if (rc)
		return rc;
	uint64_t header = EAS_MULTIPART_HEADER_SIZE(count);
	if (len < header)
		return fail(err, err_size, EAS_E_TRUNCATED, "multipart body ends inside the part table");
	uint64_t max_end = 0;
	for (uint32_t i = 0; i < count; i++) {
		uint32_t off = get_le32(data + 4 + 8 * (size_t)i);
		if (off < header)
			return fail(err, err_size, EAS_E_MALFORMED,
				    "multipart part %lu starts at byte %lu, inside the %llu-byte header",
				    (unsigned long)i, (unsigned long)off, (unsigned long long)header);
	}
	/*
	 * The streaming rule (sorted by offset, each part starts at or after
	 * the end of the one before) holds exactly when it holds for every
	 * pair; checking pairs needs no memory.
	 */
	for (uint32_t i = 0; i < count; i++) {
		entry a = { get_le32(data + 4 + 8 * (size_t)i), get_le32(data + 8 + 8 * (size_t)i), i };
		for (uint32_t j = i + 1; j < count; j++) {
			entry b = { get_le32(data + 4 + 8 * (size_t)j), get_le32(data + 8 + 8 * (size_t)j), j };
			const entry *first = by_offset(&a, &b) < 0 ? &a : &b, *second = first == &a ? &b : &a;
			if ((uint64_t)first->offset + first->length > second->offset)
				return fail(err, err_size, EAS_E_MALFORMED, "multipart part %lu overlaps part %lu",
					    (unsigned long)second->index, (unsigned long)first->index);
		}
		if ((uint64_t)a.offset + a.length > max_end)
			max_end = (uint64_t)a.offset + a.length;
	}
	if (max_end > len)
		return fail(err, err_size, EAS_E_TRUNCATED, "multipart body ends inside a part (%llu of %llu bytes)",
			    (unsigned long long)len, (unsigned long long)max_end);
	out->data = data;
	out->len = len;
	out->count = count;
	return 0;
}

int eas_multipart_part(const eas_multipart_view *v, uint32_t index, const uint8_t **bytes, size_t *len)
{
	if (!v || !bytes || !len || !v->data)
		return EAS_E_INVALID;
	if (index >= v->count)
		return EAS_E_NOTFOUND;
	uint32_t off = get_le32(v->data + 4 + 8 * (size_t)index), l = get_le32(v->data + 8 + 8 * (size_t)index);
	*bytes = v->data + off;
	*len = l;
	return 0;
}

/* ---- streaming ------------------------------------------------------------------ */

enum stage { ST_COUNT, ST_TABLE, ST_PARTS, ST_DONE };

struct eas_multipart_parser {
	eas_mem mem;
	eas_multipart_callbacks cb;
	void *user_data;
	uint32_t max_parts;
	enum stage stage;
	int result;
	char message[160];
	uint8_t stash[8];    /* the count or one table entry, gathered across feeds */
	size_t stash_len;
	uint32_t count;
	uint32_t filled;     /* table entries read */
	entry *table;
	uint32_t next;       /* sorted entry being delivered */
	int begun;           /* part_begin sent for table[next] */
	uint32_t sent;       /* bytes of table[next] delivered */
	int header_sent;
	uint64_t pos;        /* bytes of the body consumed */
};

int eas_multipart_parser_new(eas_multipart_parser **out, const eas_multipart_callbacks *cb, uint32_t max_parts,
			     const eas_mem *mem, void *user_data)
{
	if (!out)
		return EAS_E_INVALID;
	*out = NULL;
	if (!cb || cb->version != EAS_MULTIPART_CALLBACKS_VERSION)
		return EAS_E_INVALID;
	eas_mem m;
	eas__mem_init(&m, mem);
	eas_multipart_parser *p = eas__calloc(&m, 1, sizeof *p);
	if (!p)
		return EAS_E_NOMEM;
	p->mem = m;
	p->cb = *cb;
	p->user_data = user_data;
	p->max_parts = max_parts ? max_parts : EAS_MULTIPART_DEFAULT_MAX_PARTS;
	*out = p;
	return 0;
}

void eas_multipart_parser_free(eas_multipart_parser *p)
{
	if (!p)
		return;
	eas__free(&p->mem, p->table);
	eas__free(&p->mem, p);
}

const char *eas_multipart_parser_error(const eas_multipart_parser *p)
{
	return p && p->result ? p->message : NULL;
}

static int set_error(eas_multipart_parser *p, int code)
{
	if (!p->result)
		p->result = code;
	return p->result;
}

/* A callback's answer: 0, EAS_E_PAUSED, or the sticky EAS_E_CALLBACK. */
static int answer(eas_multipart_parser *p, int rc)
{
	if (rc == 0 || rc == EAS_E_PAUSED)
		return rc;
	snprintf(p->message, sizeof p->message, "a multipart callback returned %d", rc);
	return set_error(p, EAS_E_CALLBACK);
}

/*
 * Delivers what the bytes at hand allow.  *used counts the bytes taken.
 * Returns 0 when it needs more bytes, EAS_E_PAUSED, or an error.
 */
static int run(eas_multipart_parser *p, const uint8_t *data, size_t len, size_t *used)
{
	static const uint8_t none[1];
	if (!data)
		data = none; /* no arithmetic on NULL */
	size_t i = 0;
	int rc = 0;
	while (rc == 0) {
		if (p->stage == ST_COUNT || p->stage == ST_TABLE) {
			size_t want = p->stage == ST_COUNT ? 4 : 8;
			size_t take = want - p->stash_len < len - i ? want - p->stash_len : len - i;
			if (take)
				memcpy(p->stash + p->stash_len, data + i, take);
			p->stash_len += take;
			i += take;
			p->pos += take;
			if (p->stash_len < want)
				break;
			p->stash_len = 0;
			if (p->stage == ST_COUNT) {
				p->count = get_le32(p->stash);
				rc = check_count(p->count, p->max_parts, p->message, sizeof p->message);
				if (rc)
					return set_error(p, rc);
				p->table = eas__calloc(&p->mem, p->count, sizeof *p->table);
				if (!p->table) {
					snprintf(p->message, sizeof p->message, "out of memory");
					return set_error(p, EAS_E_NOMEM);
				}
				p->stage = ST_TABLE;
			} else {
				entry *e = &p->table[p->filled];
				e->offset = get_le32(p->stash);
				e->length = get_le32(p->stash + 4);
				e->index = p->filled++;
				if (p->filled == p->count) {
					rc = check_layout(p->table, p->count, p->message, sizeof p->message);
					if (rc)
						return set_error(p, rc);
					p->stage = ST_PARTS;
				}
			}
			continue;
		}
		if (p->stage == ST_DONE) {
			p->pos += len - i; /* trailing bytes are ignored */
			i = len;
			break;
		}
		/* ST_PARTS */
		if (!p->header_sent) {
			p->header_sent = 1;
			if (p->cb.header)
				rc = answer(p, p->cb.header(p->count, p->user_data));
			continue;
		}
		if (p->next == p->count) {
			p->stage = ST_DONE;
			continue;
		}
		const entry *e = &p->table[p->next];
		if (p->pos < e->offset) { /* a gap before the part */
			uint64_t gap = e->offset - p->pos;
			size_t skip = gap < len - i ? (size_t)gap : len - i;
			i += skip;
			p->pos += skip;
			if (p->pos < e->offset)
				break;
			continue;
		}
		if (!p->begun) {
			p->begun = 1;
			p->sent = 0;
			if (p->cb.part_begin)
				rc = answer(p, p->cb.part_begin(e->index, e->length, p->user_data));
			continue;
		}
		if (p->sent < e->length) {
			if (i == len)
				break;
			size_t take = e->length - p->sent < len - i ? e->length - p->sent : len - i;
			const uint8_t *bytes = data + i;
			i += take;
			p->pos += take;
			p->sent += (uint32_t)take;
			if (p->cb.part_data)
				rc = answer(p, p->cb.part_data(e->index, bytes, take, p->user_data));
			continue;
		}
		p->begun = 0;
		p->next++;
		if (p->cb.part_end)
			rc = answer(p, p->cb.part_end(e->index, p->user_data));
	}
	*used = i;
	return rc;
}

int eas_multipart_parser_feed(eas_multipart_parser *p, const uint8_t *data, size_t len, size_t *consumed)
{
	if (consumed)
		*consumed = 0;
	if (!p || (!data && len))
		return EAS_E_INVALID;
	if (p->result)
		return p->result;
	size_t used = 0;
	int rc = run(p, data, len, &used);
	if (consumed)
		*consumed = used;
	return rc;
}

int eas_multipart_parser_finish(eas_multipart_parser *p)
{
	if (!p)
		return EAS_E_INVALID;
	if (p->result)
		return p->result;
	size_t used;
	int rc = run(p, NULL, 0, &used); /* empty parts at the very end */
	if (rc)
		return rc;
	if (p->stage != ST_DONE) {
		snprintf(p->message, sizeof p->message, p->stage == ST_PARTS ? "multipart body ends inside a part" :
			 p->stage == ST_TABLE ? "multipart body ends inside the part table" :
						"multipart body ends inside PartsCount");
		return set_error(p, EAS_E_TRUNCATED);
	}
	return 0;
}

/* ---- writer -------------------------------------------------------------------- */

int eas_multipart_header_encode(uint8_t *out, size_t out_size, const uint64_t *lengths, uint32_t count)
{
	if (!out || !lengths || count == 0)
		return EAS_E_INVALID;
	uint64_t header = EAS_MULTIPART_HEADER_SIZE(count);
	if (out_size < header)
		return EAS_E_INVALID;
	uint64_t offset = header;
	for (uint32_t i = 0; i < count; i++) {
		if (offset > UINT32_MAX || lengths[i] > UINT32_MAX || offset + lengths[i] > UINT32_MAX)
			return EAS_E_LIMIT;
		offset += lengths[i];
	}
	put_le32(out, count);
	offset = header;
	for (uint32_t i = 0; i < count; i++) {
		put_le32(out + 4 + 8 * (size_t)i, (uint32_t)offset);
		put_le32(out + 8 + 8 * (size_t)i, (uint32_t)lengths[i]);
		offset += lengths[i];
	}
	return 0;
}
