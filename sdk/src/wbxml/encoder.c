/*
 * Streaming WBXML encoder.  Bytes go through a small fixed buffer to the
 * caller's sink; nothing else is held, so a document of any size costs the
 * same memory.  SWITCH_PAGE is written only when the page really changes.
 */
#include <string.h>

#include "common/mem.h"
#include "tags.h"

#define ENC_BUF 4096
#define ENC_MAX_DEPTH 64

struct eas_wbxml_encoder {
	eas_mem mem;
	eas_wbxml_sink sink;
	void *user_data;
	unsigned version;     /* EAS_PROTO_* set tags are checked against */
	int result;           /* sticky error */
	unsigned page;        /* current code page */
	unsigned depth;
	uint64_t opaque_left; /* streaming OPAQUE bytes still owed */
	int in_opaque;
	int root_closed;      /* the document's one root element is complete */
	uint64_t written;     /* bytes handed to the sink */
	size_t len;
	uint8_t buf[ENC_BUF];
};

static int set_error(eas_wbxml_encoder *e, int rc)
{
	if (!e->result)
		e->result = rc;
	return e->result;
}

static int flush(eas_wbxml_encoder *e)
{
	if (e->len == 0)
		return 0;
	if (e->sink(e->buf, e->len, e->user_data) != 0)
		return set_error(e, EAS_E_CALLBACK);
	e->written += e->len;
	e->len = 0;
	return 0;
}

static int put(eas_wbxml_encoder *e, const uint8_t *bytes, size_t n)
{
	while (n > 0) {
		if (e->len == ENC_BUF && flush(e) != 0)
			return e->result;
		/* Large runs bypass the buffer once it is empty. */
		if (e->len == 0 && n >= ENC_BUF) {
			if (e->sink(bytes, n, e->user_data) != 0)
				return set_error(e, EAS_E_CALLBACK);
			e->written += n;
			return 0;
		}
		size_t take = ENC_BUF - e->len < n ? ENC_BUF - e->len : n;
		memcpy(e->buf + e->len, bytes, take);
		e->len += take;
		bytes += take;
		n -= take;
	}
	return 0;
}

static int put_byte(eas_wbxml_encoder *e, uint8_t b)
{
	if (e->len < ENC_BUF) {
		e->buf[e->len++] = b;
		return 0;
	}
	return put(e, &b, 1);
}

static int put_mb_u_int32(eas_wbxml_encoder *e, uint32_t v)
{
	uint8_t tmp[5];
	int i = 4;
	tmp[i] = (uint8_t)(v & 0x7F);
	while (v >>= 7)
		tmp[--i] = (uint8_t)(0x80 | (v & 0x7F));
	return put(e, tmp + i, (size_t)(5 - i));
}

int eas_wbxml_encoder_new(eas_wbxml_encoder **out, eas_wbxml_sink sink, void *user_data,
			  unsigned protocol_version, const eas_mem *mem)
{
	if (!out)
		return EAS_E_INVALID;
	*out = NULL;
	if (!sink || protocol_version == 0 || (protocol_version & ~EAS_PROTO_ALL))
		return EAS_E_INVALID;
	eas_mem m;
	eas__mem_init(&m, mem);
	eas_wbxml_encoder *e = eas__malloc(&m, sizeof(*e));
	if (!e)
		return EAS_E_NOMEM;
	memset(e, 0, offsetof(eas_wbxml_encoder, buf));
	e->mem = m;
	e->sink = sink;
	e->user_data = user_data;
	e->version = protocol_version;
	/* Version 1.3, public id 1 (unknown), UTF-8, no string table. */
	static const uint8_t header[4] = { 0x03, 0x01, 0x6A, 0x00 };
	put(e, header, sizeof header);
	*out = e;
	return 0;
}

void eas_wbxml_encoder_free(eas_wbxml_encoder *e)
{
	if (e)
		eas__free(&e->mem, e);
}

static int check_ready(eas_wbxml_encoder *e)
{
	if (!e)
		return EAS_E_INVALID;
	if (e->result)
		return e->result;
	if (e->in_opaque)
		return set_error(e, EAS_E_STATE);
	return 0;
}

static int write_tag(eas_wbxml_encoder *e, eas_tag tag, int has_content)
{
	int rc = check_ready(e);
	if (rc)
		return rc;
	unsigned page = EAS_TAG_PAGE(tag), token = (unsigned)tag & 0xFFu;
	if (page >= (unsigned)EAS__PAGES || token >= 64 || !eas__tag_versions[page][token])
		return EAS_E_INVALID;
	if (!(eas__tag_versions[page][token] & e->version))
		return EAS_E_UNSUPPORTED;
	if (e->root_closed)
		return EAS_E_STATE;
	if (has_content && e->depth >= ENC_MAX_DEPTH)
		return set_error(e, EAS_E_LIMIT);
	if (page != e->page) {
		put_byte(e, 0x00);
		put_byte(e, (uint8_t)page);
		e->page = page;
	}
	if (has_content)
		e->depth++;
	else if (e->depth == 0)
		e->root_closed = 1;
	return put_byte(e, (uint8_t)(token | (has_content ? 0x40 : 0)));
}

int eas_wbxml_encoder_start(eas_wbxml_encoder *e, eas_tag tag)
{
	return write_tag(e, tag, 1);
}

int eas_wbxml_encoder_empty(eas_wbxml_encoder *e, eas_tag tag)
{
	return write_tag(e, tag, 0);
}

int eas_wbxml_encoder_end(eas_wbxml_encoder *e)
{
	int rc = check_ready(e);
	if (rc)
		return rc;
	if (e->depth == 0)
		return EAS_E_STATE;
	if (--e->depth == 0)
		e->root_closed = 1;
	return put_byte(e, 0x01);
}

int eas_wbxml_encoder_string(eas_wbxml_encoder *e, const char *text, size_t len)
{
	int rc = check_ready(e);
	if (rc)
		return rc;
	if (!text && len)
		return EAS_E_INVALID;
	if (e->depth == 0)
		return EAS_E_STATE;
	if (len && memchr(text, 0, len))
		return EAS_E_INVALID;
	put_byte(e, 0x03);
	put(e, (const uint8_t *)text, len);
	return put_byte(e, 0x00);
}

int eas_wbxml_encoder_element(eas_wbxml_encoder *e, eas_tag tag, const char *text)
{
	if (!text)
		return EAS_E_INVALID;
	int rc = eas_wbxml_encoder_start(e, tag);
	if (rc == 0)
		rc = eas_wbxml_encoder_string(e, text, strlen(text));
	if (rc == 0)
		rc = eas_wbxml_encoder_end(e);
	return rc;
}

int eas_wbxml_encoder_opaque_begin(eas_wbxml_encoder *e, uint64_t total)
{
	int rc = check_ready(e);
	if (rc)
		return rc;
	if (e->depth == 0)
		return EAS_E_STATE;
	if (total > UINT32_MAX)
		return EAS_E_LIMIT;
	put_byte(e, 0xC3);
	rc = put_mb_u_int32(e, (uint32_t)total);
	e->opaque_left = total;
	e->in_opaque = total > 0;
	return rc;
}

int eas_wbxml_encoder_opaque_write(eas_wbxml_encoder *e, const uint8_t *bytes, size_t len)
{
	if (!e || (!bytes && len))
		return EAS_E_INVALID;
	if (e->result)
		return e->result;
	if (!e->in_opaque || len > e->opaque_left)
		return EAS_E_STATE;
	e->opaque_left -= len;
	if (e->opaque_left == 0)
		e->in_opaque = 0;
	return put(e, bytes, len);
}

int eas_wbxml_encoder_opaque(eas_wbxml_encoder *e, const uint8_t *bytes, size_t len)
{
	if (!bytes && len)
		return EAS_E_INVALID;
	int rc = eas_wbxml_encoder_opaque_begin(e, len);
	if (rc == 0 && len)
		rc = eas_wbxml_encoder_opaque_write(e, bytes, len);
	return rc;
}

int eas_wbxml_encoder_finish(eas_wbxml_encoder *e)
{
	int rc = check_ready(e);
	if (rc)
		return rc;
	if (!e->root_closed)
		return EAS_E_STATE;
	return flush(e);
}

uint64_t eas_wbxml_encoder_bytes(const eas_wbxml_encoder *e)
{
	return e ? e->written : 0;
}
