/*
 * The companion server's policy file: "Name=value" lines, the format
 * eas_policy_describe() writes, read into an eas_policy (engine.h,
 * eas_server_policy_parse).
 */
#include "server/engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int bad(char *err, size_t err_size, unsigned line, const char *fmt, ...)
{
	if (err && err_size) {
		char msg[200];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
		snprintf(err, err_size, "line %u: %s", line, msg);
	}
	return EAS_E_MALFORMED;
}

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

/* [s, e) without surrounding white space. */
static void strip(const char **s, const char **e)
{
	while (*s < *e && is_space(**s))
		(*s)++;
	while (*e > *s && is_space((*e)[-1]))
		(*e)--;
}

/* A list element's items, split at ',' into one block: the pointers, then the strings. */
typedef struct list_value {
	const char **items;
	size_t count;
	char *block;
} list_value;

static int split_list(list_value *out, const char *s, const char *e, const eas_mem *mem)
{
	memset(out, 0, sizeof *out);
	size_t n = 0;
	for (const char *p = s; p < e; p++)
		n += *p == ',';
	n += s < e;
	size_t len = (size_t)(e - s);
	out->block = eas__malloc(mem, n * sizeof(char *) + len + 1);
	if (!out->block)
		return EAS_E_NOMEM;
	out->items = (const char **)(void *)out->block;
	char *text = out->block + n * sizeof(char *);
	memcpy(text, s, len);
	text[len] = '\0';
	char *item = text;
	for (size_t i = 0; i < len + 1; i++) {
		if (text[i] == ',' || text[i] == '\0') {
			text[i] = '\0';
			const char *a = item, *b = text + i;
			strip(&a, &b);
			((char *)b)[0] = '\0';
			if (a < b)
				out->items[out->count++] = a;
			item = text + i + 1;
		}
	}
	return 0;
}

int eas_server_policy_parse(eas_policy *out, const char *text, size_t len, const eas_mem *mem, char *err,
			    size_t err_size)
{
	if (!out || (!text && len))
		return EAS_E_INVALID;
	eas_mem m;
	eas__mem_init(&m, mem);
	mem = &m;
	eas_policy_init(out);
	eas_policy p;
	eas_policy_init(&p);
	list_value lists[2];
	memset(lists, 0, sizeof lists);
	int rc = 0;
	unsigned line = 0;
	const char *s = text, *end = text + len;
	while (rc == 0 && s < end) {
		line++;
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;
		const char *a = s, *b = e;
		s = nl ? nl + 1 : end;
		strip(&a, &b);
		if (a == b || *a == '#')
			continue;
		const char *eq = memchr(a, '=', (size_t)(b - a));
		if (!eq) {
			rc = bad(err, err_size, line, "expected Name=value");
			break;
		}
		const char *ne = eq, *vs = eq + 1, *ve = b;
		strip(&a, &ne);
		strip(&vs, &ve);
		char name[64];
		if ((size_t)(ne - a) >= sizeof name || ne == a) {
			rc = bad(err, err_size, line, "bad element name");
			break;
		}
		memcpy(name, a, (size_t)(ne - a));
		name[ne - a] = '\0';
		int id = eas_policy_lookup(name);
		if (id < 0) {
			rc = bad(err, err_size, line, "unknown policy element '%s'", name);
			break;
		}
		if (vs == ve) {
			if (eas_policy_set_empty(&p, (eas_policy_id)id) != 0)
				rc = bad(err, err_size, line, "%s cannot be empty", name);
			continue;
		}
		if (id == EAS_POLICY_APPROVED_APPLICATION_LIST || id == EAS_POLICY_UNAPPROVED_IN_ROM_APPLICATION_LIST) {
			list_value *l = &lists[id == EAS_POLICY_UNAPPROVED_IN_ROM_APPLICATION_LIST];
			eas__free(mem, l->block);
			rc = split_list(l, vs, ve, mem);
			if (rc)
				break;
			if (id == EAS_POLICY_APPROVED_APPLICATION_LIST) {
				p.approved_applications = l->items;
				p.approved_application_count = l->count;
			} else {
				p.unapproved_in_rom_applications = l->items;
				p.unapproved_in_rom_application_count = l->count;
			}
			p.present |= EAS_POLICY_BIT(id);
			p.empty &= ~EAS_POLICY_BIT(id);
			continue;
		}
		char value[32];
		if ((size_t)(ve - vs) >= sizeof value) {
			rc = bad(err, err_size, line, "value of %s too long", name);
			break;
		}
		memcpy(value, vs, (size_t)(ve - vs));
		value[ve - vs] = '\0';
		char *stop = NULL;
		long long v = strtoll(value, &stop, 10);
		if (!stop || *stop != '\0') {
			rc = bad(err, err_size, line, "value of %s is not a number: '%s'", name, value);
			break;
		}
		if (eas_policy_set(&p, (eas_policy_id)id, (int64_t)v) != 0)
			rc = bad(err, err_size, line, "value of %s out of range: %s", name, value);
	}
	if (rc == 0)
		rc = eas_policy_copy(out, &p, mem);
	eas__free(mem, lists[0].block);
	eas__free(mem, lists[1].block);
	return rc;
}
