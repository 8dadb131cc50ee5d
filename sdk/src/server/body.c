/*
 * Bodies shaped by BodyPreference for Sync and ItemOperations (body.h).
 */
#include "server/body.h"

#include <stdio.h>
#include <string.h>

#include "common/ascii.h"
#include "common/mem.h"

/* Where the body comes from: the store's blob, or the Data of the stored Body element. */
typedef struct body_src {
	uint32_t type;
	uint64_t size;
	int from_blob;
	const char *inline_data;
	size_t inline_len;
} body_src;

/* ---- text helpers ------------------------------------------------------------------ */

size_t eas__srv_utf8_cut(const char *s, size_t len)
{
	/* step back over continuation bytes to the start of the last character */
	size_t i = len;
	while (i > 0 && ((unsigned char)s[i - 1] & 0xC0u) == 0x80u)
		i--;
	if (i == 0)
		return len; /* not UTF-8 at all: leave the bytes alone */
	unsigned char lead = (unsigned char)s[i - 1];
	size_t need = lead < 0x80u ? 1 : (lead & 0xE0u) == 0xC0u ? 2 : (lead & 0xF0u) == 0xE0u ? 3
					: (lead & 0xF8u) == 0xF0u ? 4 : 1;
	/* the last character is complete when its lead byte and all continuations are there */
	return len - (i - 1) >= need ? len : i - 1;
}

/* The tag's name: letters after '<' and an optional '/'. */
static int tag_is(const char *tag, size_t len, const char *name)
{
	size_t n = strlen(name);
	if (len < n || !eas__ascii_ieq_n(tag, name, n))
		return 0;
	return len == n || tag[n] == ' ' || tag[n] == '/' || tag[n] == '\t' || tag[n] == '\r' || tag[n] == '\n';
}

size_t eas__srv_html_to_text(char *out, size_t size, const char *html, size_t len)
{
	static const struct {
		const char *name;
		char c;
	} entities[] = { { "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' }, { "apos;", '\'' },
			 { "#39;", '\'' }, { "nbsp;", ' ' } };
	size_t o = 0;
	int skip = 0; /* inside <script> or <style> */
	if (size == 0)
		return 0;
	for (size_t i = 0; i < len && o + 1 < size;) {
		char ch = html[i];
		if (ch == '<') {
			const char *end = memchr(html + i, '>', len - i);
			if (!end)
				break;
			const char *t = html + i + 1;
			size_t tl = (size_t)(end - t);
			int closing = tl && t[0] == '/';
			if (closing) {
				t++;
				tl--;
			}
			if (tag_is(t, tl, "script") || tag_is(t, tl, "style"))
				skip = !closing;
			else if (!skip && (tag_is(t, tl, "br") || (closing && (tag_is(t, tl, "p") || tag_is(t, tl, "div") ||
									      tag_is(t, tl, "tr")))))
				out[o++] = '\n';
			i = (size_t)(end - html) + 1;
			continue;
		}
		if (skip) {
			i++;
			continue;
		}
		if (ch == '&') {
			size_t k;
			for (k = 0; k < sizeof entities / sizeof entities[0]; k++) {
				size_t n = strlen(entities[k].name);
				if (len - i - 1 >= n && eas__ascii_ieq_n(html + i + 1, entities[k].name, n)) {
					out[o++] = entities[k].c;
					i += 1 + n;
					break;
				}
			}
			if (k < sizeof entities / sizeof entities[0])
				continue;
		}
		if (ch == '\r') {
			i++;
			continue;
		}
		out[o++] = ch;
		i++;
	}
	out[o] = '\0';
	return o;
}

/* ---- reading the body -------------------------------------------------------------- */

/* Reads up to len bytes from offset into buf; *got = bytes read. */
static int src_read(eas_srv_ctx *c, const eas_mstore_item *item, const body_src *s, uint64_t offset, uint8_t *buf,
		    size_t len, size_t *got)
{
	*got = 0;
	if (!s->from_blob) {
		if (offset >= s->inline_len)
			return 0;
		size_t n = s->inline_len - (size_t)offset;
		if (n > len)
			n = len;
		memcpy(buf, s->inline_data + offset, n);
		*got = n;
		return 0;
	}
	size_t total = 0;
	while (total < len) {
		size_t n = 0;
		int rc = c->store->item_body_read(&n, c->store, c->user_id, item->server_id, offset + total,
						  buf + total, len - total);
		if (rc)
			return rc;
		if (n == 0)
			break;
		total += n;
	}
	*got = total;
	return 0;
}

/* Loads the first len bytes (NUL terminated) into *out (eas__free it). */
static int src_load(eas_srv_ctx *c, const eas_mstore_item *item, const body_src *s, size_t len, char **out,
		    size_t *out_len)
{
	char *b = eas__malloc(c->mem, len + 1);
	if (!b)
		return EAS_E_NOMEM;
	size_t got = 0;
	int rc = src_read(c, item, s, 0, (uint8_t *)b, len, &got);
	if (rc) {
		eas__free(c->mem, b);
		return rc;
	}
	b[got] = '\0';
	*out = b;
	*out_len = got;
	return 0;
}

/* ---- writing -------------------------------------------------------------------- */

static int put_uint(eas_wbxml_encoder *enc, eas_tag tag, uint64_t v)
{
	char t[24];
	snprintf(t, sizeof t, "%llu", (unsigned long long)v);
	return eas_wbxml_encoder_element(enc, tag, t);
}

/* Text with no NUL goes as a string, anything else as OPAQUE. */
static int put_data(eas_wbxml_encoder *enc, eas_tag tag, const char *data, size_t len)
{
	int rc = eas_wbxml_encoder_start(enc, tag);
	if (rc == 0)
		rc = memchr(data, '\0', len) ? eas_wbxml_encoder_opaque(enc, (const uint8_t *)data, len)
					     : eas_wbxml_encoder_string(enc, data, len);
	return rc ? rc : eas_wbxml_encoder_end(enc);
}

/* The preference for this body: same type, else text for HTML, else the first. *convert = HTML -> text. */
static const eas_srv_body_pref *pick(const eas_srv_body_opts *o, uint32_t type, int *convert)
{
	*convert = 0;
	for (size_t i = 0; i < o->count; i++)
		if (o->prefs[i].type == type)
			return &o->prefs[i];
	if (type == 2) {
		for (size_t i = 0; i < o->count; i++)
			if (o->prefs[i].type == 1) {
				*convert = 1;
				return &o->prefs[i];
			}
	}
	return &o->prefs[0];
}

/* Up to `chars` characters of plain text from the start of the body, into out (size bytes). */
static int preview_text(eas_srv_ctx *c, const eas_mstore_item *item, const body_src *s, uint32_t chars, char *out,
			size_t size, size_t *out_len)
{
	*out_len = 0;
	/* enough source for 255 characters of text after tags are stripped, within reason */
	size_t want = s->type == 2 ? 32768 : (size_t)chars * 4;
	if (want > s->size)
		want = (size_t)s->size;
	char *raw;
	size_t raw_len;
	int rc = src_load(c, item, s, want, &raw, &raw_len);
	if (rc)
		return rc;
	const char *text = raw;
	size_t tl = raw_len;
	char *plain = NULL;
	if (s->type == 2) {
		plain = eas__malloc(c->mem, raw_len + 1);
		if (!plain) {
			eas__free(c->mem, raw);
			return EAS_E_NOMEM;
		}
		tl = eas__srv_html_to_text(plain, raw_len + 1, raw, raw_len);
		text = plain;
	}
	/* skip leading blank space, then count characters */
	while (tl && (*text == ' ' || *text == '\n' || *text == '\t')) {
		text++;
		tl--;
	}
	size_t n = 0, count = 0;
	while (n < tl && count < chars) {
		n++;
		while (n < tl && ((unsigned char)text[n] & 0xC0u) == 0x80u)
			n++;
		count++;
	}
	if (n >= size)
		n = eas__srv_utf8_cut(text, size - 1);
	memcpy(out, text, n);
	out[n] = '\0';
	/* a NUL inside would break the string: stop there */
	*out_len = strlen(out);
	eas__free(c->mem, plain);
	eas__free(c->mem, raw);
	return 0;
}

static int write_body(eas_srv_ctx *c, eas_wbxml_encoder *enc, const eas_mstore_item *item, const body_src *s,
		      const eas_srv_body_opts *o)
{
	int convert;
	const eas_srv_body_pref *p = pick(o, s->type, &convert);
	if (convert && s->size > EAS_SRV_BODY_WHOLE_MAX)
		convert = 0; /* too big to convert here: the HTML as it is */
	uint32_t out_type = convert ? 1 : s->type;
	char *whole = NULL; /* the converted body, when converting */
	uint64_t full = s->size;
	int rc = 0;
	if (convert) {
		char *html;
		size_t hl;
		rc = src_load(c, item, s, (size_t)s->size, &html, &hl);
		if (rc)
			return rc;
		whole = eas__malloc(c->mem, hl + 1);
		if (!whole) {
			eas__free(c->mem, html);
			return EAS_E_NOMEM;
		}
		full = eas__srv_html_to_text(whole, hl + 1, html, hl);
		eas__free(c->mem, html);
	}
	uint64_t limit = p->has_truncation_size ? p->truncation_size : UINT64_MAX;
	uint64_t want = full < limit ? full : limit;
	int send_data = 1;
	if (p->all_or_none && full > limit) {
		send_data = 0;
		want = 0;
	}
	if (want > EAS_SRV_BODY_WHOLE_MAX)
		want = EAS_SRV_BODY_WHOLE_MAX;
	char *data = NULL;
	size_t data_len = 0;
	if (send_data) {
		if (whole) {
			data = whole;
			data_len = (size_t)want;
		} else {
			rc = src_load(c, item, s, (size_t)want, &data, &data_len);
		}
		if (rc == 0 && data_len < full && (out_type == 1 || out_type == 2))
			data_len = eas__srv_utf8_cut(data, data_len);
	}
	int truncated = !send_data || data_len < full;
	if (rc == 0)
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNCBASE_BODY);
	if (rc == 0)
		rc = put_uint(enc, EAS_TAG_AIRSYNCBASE_TYPE, out_type);
	if (rc == 0)
		rc = put_uint(enc, EAS_TAG_AIRSYNCBASE_ESTIMATED_DATA_SIZE, full);
	if (rc == 0 && truncated)
		rc = eas_wbxml_encoder_element(enc, EAS_TAG_AIRSYNCBASE_TRUNCATED, "1");
	if (rc == 0 && send_data) {
		if (o->part) {
			uint32_t index = 0;
			rc = o->part((const uint8_t *)data, data_len, &index, o->part_user_data);
			if (rc == 0)
				rc = put_uint(enc, EAS_TAG_ITEMOPERATIONS_PART, index);
		} else {
			rc = put_data(enc, EAS_TAG_AIRSYNCBASE_DATA, data ? data : "", data_len);
		}
	}
	/* Preview (14.0+): not when the plain text itself is already there */
	if (rc == 0 && p->has_preview && p->preview > 0 && (c->version & EAS_PROTO_FROM(EAS_PROTO_14_0)) &&
	    (s->type == 1 || s->type == 2) && !(out_type == 1 && send_data && !truncated)) {
		char pv[256 * 4 + 1];
		size_t pl = 0;
		uint32_t chars = p->preview > 255 ? 255 : p->preview;
		rc = preview_text(c, item, s, chars, pv, sizeof pv, &pl);
		if (rc == 0 && pl)
			rc = put_data(enc, EAS_TAG_AIRSYNCBASE_PREVIEW, pv, pl);
	}
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	if (data != whole)
		eas__free(c->mem, data);
	eas__free(c->mem, whole);
	return rc;
}

int eas__srv_write_item_data(eas_srv_ctx *c, eas_wbxml_encoder *enc, const eas_mstore_item *item,
			     const eas_srv_body_opts *o)
{
	eas_tree *tree = NULL;
	const eas_node *root = NULL;
	if (item->application_data && item->application_data_len) {
		char err[120];
		int rc = eas_tree_parse(&tree, item->application_data, item->application_data_len, 0, c->mem, err,
					sizeof err);
		if (rc == EAS_E_NOMEM)
			return rc;
		if (rc) {
			snprintf(c->err, sizeof c->err, "stored ApplicationData of %s unreadable: %s", item->server_id,
				 err);
			return EAS_E_IO;
		}
		root = eas_tree_root(tree);
	}
	int shape = o && o->count > 0 && (c->version == 0 || (c->version & EAS_PROTO_FROM(EAS_PROTO_12_0)));
	int rc = 0, wrote_body = 0;
	for (const eas_node *ch = root ? root->first : NULL; rc == 0 && ch; ch = ch->next) {
		if (!shape || ch->tag != EAS_TAG_AIRSYNCBASE_BODY) {
			rc = eas_node_write(enc, ch, c->version); /* elements the client's version lacks are left out */
			continue;
		}
		if (wrote_body)
			continue; /* one Body */
		body_src s;
		memset(&s, 0, sizeof s);
		if (item->body_type) {
			s.type = item->body_type;
			s.size = item->body_size;
			s.from_blob = 1;
		} else {
			uint32_t t = 0;
			if (eas_node_child_uint(ch, EAS_TAG_AIRSYNCBASE_TYPE, &t) != 0)
				t = 1;
			const eas_node *d = eas_node_child(ch, EAS_TAG_AIRSYNCBASE_DATA);
			s.type = t;
			s.inline_data = d ? d->text : "";
			s.inline_len = d ? d->text_len : 0;
			s.size = s.inline_len;
		}
		rc = write_body(c, enc, item, &s, o);
		wrote_body = 1;
	}
	if (rc == 0 && shape && !wrote_body && item->body_type) {
		body_src s;
		memset(&s, 0, sizeof s);
		s.type = item->body_type;
		s.size = item->body_size;
		s.from_blob = 1;
		rc = write_body(c, enc, item, &s, o);
	}
	eas_tree_free(tree);
	return rc;
}

/* ---- Sync: preferences per collection, remembered ----------------------------------- */

#define BODYPREFS_FORMAT 1

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* format, count, then per class: name length, name, pref count, 6 x u32 per pref */
static size_t bodies_pack(const eas_srv_sync_bodies *b, uint8_t *out)
{
	size_t n = 0;
	out[n++] = BODYPREFS_FORMAT;
	out[n++] = (uint8_t)b->count;
	for (size_t i = 0; i < b->count; i++) {
		const eas_srv_class_body *cb = &b->per[i];
		size_t cl = strlen(cb->class_name);
		out[n++] = (uint8_t)cl;
		memcpy(out + n, cb->class_name, cl);
		n += cl;
		out[n++] = (uint8_t)cb->opts.count;
		for (size_t k = 0; k < cb->opts.count; k++) {
			const eas_srv_body_pref *p = &cb->opts.prefs[k];
			uint32_t v[6] = { p->type, (uint32_t)p->has_truncation_size, p->truncation_size,
					  (uint32_t)p->all_or_none, (uint32_t)p->has_preview, p->preview };
			for (size_t j = 0; j < 6; j++, n += 4)
				put_u32(out + n, v[j]);
		}
	}
	return n;
}

/* 0, or -1 for bytes that are not a packed set (then nothing is kept). */
static int bodies_unpack(eas_srv_sync_bodies *b, const uint8_t *in, size_t len)
{
	memset(b, 0, sizeof *b);
	size_t n = 0;
	if (len < 2 || in[0] != BODYPREFS_FORMAT || in[1] > EAS_SYNC_MAX_OPTIONS)
		return -1;
	size_t count = in[1];
	n = 2;
	for (size_t i = 0; i < count; i++) {
		eas_srv_class_body *cb = &b->per[i];
		if (n >= len || in[n] > EAS_MSTORE_CLASS_MAX || len - n - 1 < (size_t)in[n] + 1)
			return -1;
		size_t cl = in[n++];
		memcpy(cb->class_name, in + n, cl);
		cb->class_name[cl] = '\0';
		n += cl;
		size_t pc = in[n++];
		if (pc > EAS_SRV_MAX_BODY_PREFS || len - n < pc * 24)
			return -1;
		for (size_t k = 0; k < pc; k++, n += 24) {
			eas_srv_body_pref *p = &cb->opts.prefs[k];
			p->type = get_u32(in + n);
			p->has_truncation_size = get_u32(in + n + 4) != 0;
			p->truncation_size = get_u32(in + n + 8);
			p->all_or_none = get_u32(in + n + 12) != 0;
			p->has_preview = get_u32(in + n + 16) != 0;
			p->preview = get_u32(in + n + 20);
		}
		cb->opts.count = pc;
	}
	b->count = count;
	return 0;
}

int eas__srv_sync_bodies(eas_srv_ctx *c, const char *collection_id, const eas_sync_options *opts, size_t n,
			 eas_srv_sync_bodies *out)
{
	memset(out, 0, sizeof *out);
	char name[EAS_MSTORE_ID_SIZE];
	int named = collection_id && strlen(collection_id) + 10 <= EAS_MSTORE_ID_MAX;
	if (named)
		snprintf(name, sizeof name, "bodyprefs:%s", collection_id);
	if (n == 0) {
		if (!named)
			return 0;
		uint8_t *kept = NULL;
		size_t kept_len = 0;
		int rc = c->store->device_cache_get(&kept, &kept_len, c->store, c->user_id, c->device_id, name);
		if (rc == EAS_E_NOTFOUND)
			return 0;
		if (rc)
			return rc;
		if (kept && bodies_unpack(out, kept, kept_len) != 0)
			memset(out, 0, sizeof *out);
		c->store->release(c->store, kept);
		return 0;
	}
	for (size_t i = 0; i < n && i < EAS_SYNC_MAX_OPTIONS; i++) {
		eas_srv_class_body *cb = &out->per[out->count++];
		const eas_sync_options *o = &opts[i];
		if (o->class_name && strlen(o->class_name) <= EAS_MSTORE_CLASS_MAX)
			snprintf(cb->class_name, sizeof cb->class_name, "%s", o->class_name);
		for (size_t k = 0; k < o->body_pref_count && k < EAS_SRV_MAX_BODY_PREFS; k++) {
			const eas_sync_body_pref *p = &o->body_prefs[k];
			eas_srv_body_pref *q = &cb->opts.prefs[cb->opts.count++];
			q->type = p->type;
			q->has_truncation_size = p->has_truncation_size;
			q->truncation_size = p->truncation_size;
			q->all_or_none = p->has_all_or_none && p->all_or_none;
			q->has_preview = p->has_preview;
			q->preview = p->preview;
		}
	}
	if (!named)
		return 0;
	uint8_t packed[2 + EAS_SYNC_MAX_OPTIONS * (2 + EAS_MSTORE_CLASS_MAX + EAS_SRV_MAX_BODY_PREFS * 24)];
	size_t len = bodies_pack(out, packed);
	return c->store->device_cache_put(c->store, c->user_id, c->device_id, name, packed, len);
}

const eas_srv_body_opts *eas__srv_sync_bodies_for(const eas_srv_sync_bodies *b, const char *class_name)
{
	const eas_srv_body_opts *fallback = NULL;
	for (size_t i = 0; i < b->count; i++) {
		const eas_srv_class_body *cb = &b->per[i];
		if (class_name && cb->class_name[0] && strcmp(cb->class_name, class_name) == 0)
			return cb->opts.count ? &cb->opts : NULL;
		if (!cb->class_name[0] && !fallback)
			fallback = &cb->opts;
	}
	return fallback && fallback->count ? fallback : NULL;
}
