/* A bounded read-only tree of a WBXML document, in an arena. */
#include "tree.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/mem.h"

#define BLOCK_SIZE 16384u
#define DEFAULT_MAX (4u << 20)

typedef struct block {
	struct block *prev;
	size_t used, size;
	/* data follows, aligned for eas_node */
} block;

struct eas_tree {
	eas_mem mem;
	eas_wbxml_decoder *dec;
	block *blocks;
	size_t bytes, max_bytes;
	eas_node *root;
	eas_node *current;   /* innermost open element */
	int complete;
	int result;
	char message[160];
	/*
	 * The text of `pending`, gathered across pieces and across several
	 * STR_I/OPAQUE tokens of one element, copied into the arena once, when
	 * the next tag arrives (linear, however many tokens the value spans).
	 */
	eas_node *pending;
	int pending_opaque;
	char *scratch;
	size_t scratch_len, scratch_cap;
};

static const char empty_text[] = "";

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int tree_fail(eas_tree *t, int code, const char *fmt, ...)
{
	if (t->result)
		return t->result;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->message, sizeof t->message, fmt, ap);
	va_end(ap);
	t->result = code;
	return code;
}

static size_t align_up(size_t n)
{
	const size_t a = sizeof(void *) > 8 ? sizeof(void *) : 8;
	return (n + a - 1) & ~(a - 1);
}

static void *arena_alloc(eas_tree *t, size_t n)
{
	n = align_up(n);
	block *b = t->blocks;
	if (!b || b->size - b->used < n) {
		size_t size = n > BLOCK_SIZE ? n : BLOCK_SIZE;
		if (t->bytes + size > t->max_bytes && t->bytes + n <= t->max_bytes)
			size = n; /* a last small block still fits */
		if (t->bytes + size > t->max_bytes) {
			tree_fail(t, EAS_E_LIMIT, "document needs more than %zu bytes of memory", t->max_bytes);
			return NULL;
		}
		b = eas__malloc(&t->mem, align_up(sizeof(block)) + size);
		if (!b) {
			tree_fail(t, EAS_E_NOMEM, "out of memory");
			return NULL;
		}
		b->prev = t->blocks;
		b->used = 0;
		b->size = size;
		t->blocks = b;
		t->bytes += size;
	}
	void *p = (char *)b + align_up(sizeof(block)) + b->used;
	b->used += n;
	return p;
}

/* Gives the pending node its text, in the arena. */
static int flush_text(eas_tree *t)
{
	eas_node *n = t->pending;
	if (!n)
		return 0;
	t->pending = NULL;
	char *text = arena_alloc(t, t->scratch_len + 1);
	if (!text)
		return t->result;
	if (t->scratch_len)
		memcpy(text, t->scratch, t->scratch_len);
	text[t->scratch_len] = '\0';
	n->text = text;
	n->text_len = t->scratch_len;
	n->opaque = t->pending_opaque;
	t->scratch_len = 0;
	return 0;
}

static int on_start(eas_tag tag, int has_content, void *ud)
{
	eas_tree *t = ud;
	if (flush_text(t))
		return t->result;
	eas_node *n = arena_alloc(t, sizeof *n);
	if (!n)
		return t->result;
	memset(n, 0, sizeof *n);
	n->tag = tag;
	n->has_content = has_content;
	n->text = empty_text;
	n->parent = t->current;
	if (!t->current) {
		t->root = n;
	} else {
		if (t->current->last)
			t->current->last->next = n;
		else
			t->current->first = n;
		t->current->last = n;
	}
	if (has_content)
		t->current = n;
	return 0;
}

static int on_end(eas_tag tag, void *ud)
{
	(void)tag;
	eas_tree *t = ud;
	if (flush_text(t))
		return t->result;
	t->current = t->current ? t->current->parent : NULL;
	return 0;
}

static int on_data(eas_wbxml_data_kind kind, const uint8_t *bytes, size_t len, int final, uint64_t total,
		   void *ud)
{
	(void)final;
	(void)total;
	eas_tree *t = ud;
	if (t->pending != t->current) {
		if (flush_text(t))
			return t->result;
		t->pending = t->current;
		t->pending_opaque = 0;
	}
	if (kind == EAS_WBXML_OPAQUE)
		t->pending_opaque = 1;
	if (t->scratch_len + len > t->scratch_cap) {
		size_t cap = t->scratch_cap ? t->scratch_cap * 2 : 256;
		while (cap < t->scratch_len + len)
			cap *= 2;
		if (cap > t->max_bytes) {
			if (t->scratch_len + len > t->max_bytes)
				return tree_fail(t, EAS_E_LIMIT, "value larger than %zu bytes", t->max_bytes);
			cap = t->max_bytes;
		}
		char *s = eas__realloc(&t->mem, t->scratch, cap);
		if (!s)
			return tree_fail(t, EAS_E_NOMEM, "out of memory");
		t->scratch = s;
		t->scratch_cap = cap;
	}
	if (len)
		memcpy(t->scratch + t->scratch_len, bytes, len);
	t->scratch_len += len;
	return 0;
}

int eas_tree_new(eas_tree **out, size_t max_bytes, const eas_wbxml_decoder_options *options,
		 const eas_mem *mem)
{
	if (!out)
		return EAS_E_INVALID;
	*out = NULL;
	eas_mem m;
	eas__mem_init(&m, mem);
	eas_tree *t = eas__calloc(&m, 1, sizeof *t);
	if (!t)
		return EAS_E_NOMEM;
	t->mem = m;
	t->max_bytes = max_bytes ? max_bytes : DEFAULT_MAX;
	eas_wbxml_callbacks cb = { EAS_WBXML_CALLBACKS_VERSION, on_start, on_end, on_data };
	int rc = eas_wbxml_decoder_new(&t->dec, &cb, options, &m, t);
	if (rc) {
		eas__free(&m, t);
		return rc;
	}
	*out = t;
	return 0;
}

void eas_tree_free(eas_tree *t)
{
	if (!t)
		return;
	for (block *b = t->blocks, *prev; b; b = prev) {
		prev = b->prev;
		eas__free(&t->mem, b);
	}
	eas__free(&t->mem, t->scratch);
	eas_wbxml_decoder_free(t->dec);
	eas__free(&t->mem, t);
}

int eas_tree_feed(eas_tree *t, const uint8_t *data, size_t len)
{
	if (!t)
		return EAS_E_INVALID;
	if (t->result)
		return t->result;
	int rc = eas_wbxml_decoder_feed(t->dec, data, len, NULL);
	if (rc == EAS_E_CALLBACK && t->result)
		return t->result; /* our own callback's failure says more */
	if (rc)
		return tree_fail(t, rc, "%s", eas_wbxml_decoder_error(t->dec, NULL));
	return 0;
}

int eas_tree_finish(eas_tree *t)
{
	if (!t)
		return EAS_E_INVALID;
	if (t->result)
		return t->result;
	int rc = eas_wbxml_decoder_finish(t->dec);
	if (rc)
		return tree_fail(t, rc, "%s", eas_wbxml_decoder_error(t->dec, NULL));
	t->complete = 1;
	return 0;
}

const eas_node *eas_tree_root(const eas_tree *t)
{
	return t && t->complete ? t->root : NULL;
}

const char *eas_tree_error(const eas_tree *t, uint64_t *offset)
{
	if (!t || !t->result)
		return NULL;
	if (offset)
		*offset = eas_wbxml_decoder_offset(t->dec);
	uint64_t at;
	if (offset && eas_wbxml_decoder_error(t->dec, &at))
		*offset = at;
	return t->message;
}

int eas_tree_parse(eas_tree **out, const uint8_t *data, size_t len, size_t max_bytes,
		   const eas_mem *mem, char *err, size_t err_size)
{
	if (!out)
		return EAS_E_INVALID;
	*out = NULL;
	eas_tree *t;
	int rc = eas_tree_new(&t, max_bytes, NULL, mem);
	if (rc) {
		if (err && err_size)
			snprintf(err, err_size, "%s", eas_strerror(rc));
		return rc;
	}
	rc = eas_tree_feed(t, data, len);
	if (rc == 0)
		rc = eas_tree_finish(t);
	if (rc) {
		if (err && err_size) {
			uint64_t at = 0;
			const char *msg = eas_tree_error(t, &at);
			snprintf(err, err_size, "byte %llu: %s", (unsigned long long)at, msg ? msg : eas_strerror(rc));
		}
		eas_tree_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

/* ---- walking ---------------------------------------------------------------- */

const eas_node *eas_node_child(const eas_node *n, eas_tag tag)
{
	if (!n)
		return NULL;
	for (const eas_node *c = n->first; c; c = c->next)
		if (tag == EAS_TAG_NONE || c->tag == tag)
			return c;
	return NULL;
}

const eas_node *eas_node_next_same(const eas_node *n)
{
	if (!n)
		return NULL;
	for (const eas_node *c = n->next; c; c = c->next)
		if (c->tag == n->tag)
			return c;
	return NULL;
}

const eas_node *eas_node_path(const eas_node *n, ...)
{
	va_list ap;
	va_start(ap, n);
	for (;;) {
		eas_tag tag = (eas_tag)va_arg(ap, int);
		if (tag == EAS_TAG_NONE || !n)
			break;
		n = eas_node_child(n, tag);
	}
	va_end(ap);
	return n;
}

const char *eas_node_child_text(const eas_node *n, eas_tag tag)
{
	const eas_node *c = eas_node_child(n, tag);
	return c ? c->text : NULL;
}

int eas_node_child_uint(const eas_node *n, eas_tag tag, uint32_t *out)
{
	const eas_node *c = eas_node_child(n, tag);
	if (!c)
		return EAS_E_NOTFOUND;
	const char *s = c->text;
	if (c->text_len == 0 || c->text_len > 10)
		return EAS_E_MALFORMED;
	uint64_t v = 0;
	for (size_t i = 0; i < c->text_len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return EAS_E_MALFORMED;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return EAS_E_MALFORMED;
	*out = (uint32_t)v;
	return 0;
}

size_t eas_node_count(const eas_node *n, eas_tag tag)
{
	size_t count = 0;
	for (const eas_node *c = n ? n->first : NULL; c; c = c->next)
		if (c->tag == tag)
			count++;
	return count;
}

static int node_write(eas_wbxml_encoder *enc, const eas_node *n, unsigned version, unsigned depth)
{
	if (depth > EAS_NODE_WRITE_MAX_DEPTH)
		return EAS_E_LIMIT;
	if (version && !(eas_tag_versions(EAS_TAG_PAGE(n->tag), EAS_TAG_TOKEN(n->tag)) & version))
		return 0;
	int rc;
	if (n->first) {
		rc = eas_wbxml_encoder_start(enc, n->tag);
		for (const eas_node *c = n->first; rc == 0 && c; c = c->next)
			rc = node_write(enc, c, version, depth + 1);
		return rc ? rc : eas_wbxml_encoder_end(enc);
	}
	if (!n->has_content)
		return eas_wbxml_encoder_empty(enc, n->tag);
	rc = eas_wbxml_encoder_start(enc, n->tag);
	if (rc == 0)
		rc = n->opaque ? eas_wbxml_encoder_opaque(enc, (const uint8_t *)n->text, n->text_len)
			       : eas_wbxml_encoder_string(enc, n->text, n->text_len);
	return rc ? rc : eas_wbxml_encoder_end(enc);
}

int eas_node_write(eas_wbxml_encoder *enc, const eas_node *n, unsigned version)
{
	return node_write(enc, n, version, 1);
}
