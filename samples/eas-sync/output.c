/*
 * eas-sync: output.  A tiny streaming JSON writer (commas and escaping
 * handled here, so the commands only say what they write), the error report
 * with its exit code, and the secret redaction every message goes through.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <eas/status.h>

#include "app.h"

/* ---- JSON ---------------------------------------------------------------- */

/* One flag per nesting level: something was written at this level (a comma is due). */
static unsigned char need_comma[64];
static int depth;
static int after_key;
static int line_open; /* something was written since the last json_newline */

static void before_value(void)
{
	line_open = 1;
	if (after_key) {
		after_key = 0;
		return;
	}
	if (depth > 0 && need_comma[depth - 1])
		putchar(',');
	if (depth > 0)
		need_comma[depth - 1] = 1;
}

static void open_level(int c)
{
	before_value();
	putchar(c);
	if (depth < (int)sizeof need_comma)
		need_comma[depth] = 0;
	depth++;
}

static void close_level(int c)
{
	if (depth > 0)
		depth--;
	putchar(c);
}

void json_begin_object(void)
{
	open_level('{');
}
void json_end_object(void)
{
	close_level('}');
}
void json_begin_array(void)
{
	open_level('[');
}
void json_end_array(void)
{
	close_level(']');
}

/* RFC 8259 string: UTF-8 passes through; invalid bytes become U+FFFD so the output stays valid. */
static void write_string(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	putchar('"');
	size_t i = 0;
	while (i < len) {
		unsigned c = p[i];
		if (c == '"' || c == '\\') {
			putchar('\\');
			putchar((int)c);
			i++;
		} else if (c == '\n') {
			fputs("\\n", stdout);
			i++;
		} else if (c == '\r') {
			fputs("\\r", stdout);
			i++;
		} else if (c == '\t') {
			fputs("\\t", stdout);
			i++;
		} else if (c < 0x20 || c == 0x7F) {
			printf("\\u%04x", c);
			i++;
		} else if (c < 0x80) {
			putchar((int)c);
			i++;
		} else {
			/* validate one UTF-8 sequence */
			size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c <= 0xDF ? 2 : 0;
			if (c >= 0xF5)
				n = 0;
			int ok = n > 0 && i + n <= len;
			for (size_t k = 1; ok && k < n; k++)
				if ((p[i + k] & 0xC0) != 0x80)
					ok = 0;
			if (ok && n == 3 && ((c == 0xE0 && p[i + 1] < 0xA0) || (c == 0xED && p[i + 1] >= 0xA0)))
				ok = 0;
			if (ok && n == 4 && ((c == 0xF0 && p[i + 1] < 0x90) || (c == 0xF4 && p[i + 1] >= 0x90)))
				ok = 0;
			if (ok) {
				fwrite(p + i, 1, n, stdout);
				i += n;
			} else {
				fputs("\\ufffd", stdout);
				i++;
			}
		}
	}
	putchar('"');
}

void json_key(const char *key)
{
	before_value();
	write_string(key, strlen(key));
	putchar(':');
	after_key = 1;
}

void json_string(const char *value)
{
	if (!value) {
		json_null();
		return;
	}
	json_string_len(value, strlen(value));
}

void json_string_len(const char *value, size_t len)
{
	before_value();
	write_string(value, len);
}

void json_uint(uint64_t value)
{
	before_value();
	printf("%llu", (unsigned long long)value);
}

void json_int(int64_t value)
{
	before_value();
	printf("%lld", (long long)value);
}

void json_double(double value)
{
	before_value();
	if (value != value || value > 1e300 || value < -1e300)
		fputs("null", stdout);
	else
		printf("%.3f", value);
}

void json_bool(int value)
{
	before_value();
	fputs(value ? "true" : "false", stdout);
}

void json_null(void)
{
	before_value();
	fputs("null", stdout);
}

void json_kv_string(const char *key, const char *value)
{
	json_key(key);
	json_string(value);
}
void json_kv_uint(const char *key, uint64_t value)
{
	json_key(key);
	json_uint(value);
}
void json_kv_int(const char *key, int64_t value)
{
	json_key(key);
	json_int(value);
}
void json_kv_bool(const char *key, int value)
{
	json_key(key);
	json_bool(value);
}
void json_kv_double(const char *key, double value)
{
	json_key(key);
	json_double(value);
}

void json_newline(void)
{
	if (!line_open)
		return;
	line_open = 0;
	putchar('\n');
	fflush(stdout);
	depth = 0;
	after_key = 0;
	need_comma[0] = 0;
}

/* ---- errors ---------------------------------------------------------------- */

int exit_code_for(int err)
{
	switch (err) {
	case 0:
		return EXIT_OK;
	case EAS_E_AUTH:
		return EXIT_AUTH;
	case EAS_E_IO:
		return EXIT_NETWORK;
	case EAS_E_TLS:
		return EXIT_TLS;
	case EAS_E_NOTFOUND:
		return EXIT_NOTFOUND;
	case EAS_E_INVALID:
		return EXIT_USAGE;
	default:
		return EXIT_FAILED;
	}
}

static const char *exit_code_name(int code)
{
	switch (code) {
	case EXIT_FAILED:
		return "failed";
	case EXIT_USAGE:
		return "usage";
	case EXIT_AUTH:
		return "auth";
	case EXIT_NETWORK:
		return "network";
	case EXIT_TLS:
		return "tls";
	case EXIT_LOCAL:
		return "local";
	case EXIT_NOTFOUND:
		return "not_found";
	default:
		return "ok";
	}
}

static void replace_all(char *text, const char *secret)
{
	static const char mask[] = "[redacted]";
	size_t n = secret ? strlen(secret) : 0;
	if (n == 0)
		return;
	char *hit;
	while ((hit = strstr(text, secret)) != NULL) {
		size_t rest = strlen(hit + n);
		size_t m = sizeof mask - 1;
		if (m <= n) {
			memcpy(hit, mask, m);
			memmove(hit + m, hit + n, rest + 1);
		} else {
			/* the mask is longer: cut the secret to stars instead of growing the buffer */
			memset(hit, '*', n);
		}
	}
}

void redact_secrets(const app *a, char *text)
{
	if (a->password)
		replace_all(text, a->password);
	if (a->token[0])
		replace_all(text, a->token);
}

int fail(app *a, int exit_code, int eas_status, int http_status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	redact_secrets(a, msg);
	if (a->exit_code == 0)
		a->exit_code = exit_code;
	fprintf(stderr, "eas-sync: %s\n", msg);
	if (a->o.json) {
		json_newline(); /* a fresh document even if the command was writing one */
		json_begin_object();
		json_kv_string("command", a->o.command);
		json_kv_bool("ok", 0);
		json_key("error");
		json_begin_object();
		json_kv_string("kind", exit_code_name(exit_code));
		json_kv_int("exit_code", exit_code);
		json_kv_string("message", msg);
		if (eas_status)
			json_kv_int("eas_status", eas_status);
		if (http_status) {
			json_kv_int("http_status", http_status);
			const char *t = eas_http_status_text(http_status);
			if (t)
				json_kv_string("http_meaning", t);
		}
		json_end_object();
		json_end_object();
		json_newline();
	}
	return exit_code;
}

void format_bytes(char *buf, size_t size, uint64_t bytes)
{
	if (bytes < 1024)
		snprintf(buf, size, "%llu B", (unsigned long long)bytes);
	else if (bytes < 1024u * 1024u)
		snprintf(buf, size, "%.1f KiB", (double)bytes / 1024.0);
	else if (bytes < 1024ull * 1024u * 1024u)
		snprintf(buf, size, "%.1f MiB", (double)bytes / (1024.0 * 1024.0));
	else
		snprintf(buf, size, "%.2f GiB", (double)bytes / (1024.0 * 1024.0 * 1024.0));
}

void copy_text(char *dst, size_t size, const char *text)
{
	if (size == 0)
		return;
	size_t n = text ? strlen(text) : 0;
	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80)
			n--;
	}
	if (n)
		memcpy(dst, text, n);
	dst[n] = '\0';
}
