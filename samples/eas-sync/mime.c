/*
 * eas-sync send: the RFC 5322 message SendMail carries.  Plain text body
 * (UTF-8), attachments as multipart/mixed parts in base64; non-ASCII
 * subjects as RFC 2047 encoded words, non-ASCII file names as RFC 2231
 * parameters.  Header values are refused when they hold a line break (no
 * header injection from the command line).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "app.h"

#define ATTACH_TOTAL_MAX (32u << 20) /* bytes of all attachments together */
#define BODY_MAX (8u << 20)

static void put(mime_buf *b, const void *data, size_t len)
{
	if (b->failed)
		return;
	if (b->len + len + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + len + 1)
			cap *= 2;
		char *p = realloc(b->data, cap);
		if (!p) {
			b->failed = 1;
			return;
		}
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void putf(mime_buf *b, const char *fmt, ...)
{
	char tmp[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof tmp) {
		b->failed = 1;
		return;
	}
	put(b, tmp, (size_t)n);
}

void mime_buf_free(mime_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* base64 in lines of 76 characters. */
static void put_base64(mime_buf *b, const unsigned char *p, size_t len, int wrap)
{
	char line[80];
	size_t n = 0;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16;
		if (i + 1 < len)
			v |= (unsigned)p[i + 1] << 8;
		if (i + 2 < len)
			v |= p[i + 2];
		line[n++] = b64[(v >> 18) & 63];
		line[n++] = b64[(v >> 12) & 63];
		line[n++] = i + 1 < len ? b64[(v >> 6) & 63] : '=';
		line[n++] = i + 2 < len ? b64[v & 63] : '=';
		if (wrap && n == 76) {
			line[n++] = '\r';
			line[n++] = '\n';
			put(b, line, n);
			n = 0;
		}
	}
	if (n) {
		if (wrap) {
			line[n++] = '\r';
			line[n++] = '\n';
		}
		put(b, line, n);
	}
}

static int is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return 0;
	return 1;
}

static int has_break(const char *s)
{
	return strpbrk(s, "\r\n") != NULL;
}

/* A header value: as is when ASCII, else one RFC 2047 encoded word per line piece. */
static void put_header_text(mime_buf *b, const char *name, const char *value)
{
	putf(b, "%s: ", name);
	if (is_ascii(value)) {
		put(b, value, strlen(value));
	} else {
		/* 45 input bytes give 60 base64 characters: short enough for one line each; cut between UTF-8 characters */
		const unsigned char *p = (const unsigned char *)value;
		size_t len = strlen(value), i = 0;
		while (i < len) {
			size_t n = len - i < 45 ? len - i : 45;
			while (n > 0 && i + n < len && (p[i + n] & 0xC0) == 0x80)
				n--;
			if (n == 0)
				n = len - i < 45 ? len - i : 45;
			put(b, i ? "\r\n =?UTF-8?B?" : "=?UTF-8?B?", i ? 13 : 10);
			put_base64(b, p + i, n, 0);
			put(b, "?=", 2);
			i += n;
		}
	}
	put(b, "\r\n", 2);
}

static void put_address_list(mime_buf *b, const char *name, const char *const *list, int n)
{
	if (n == 0)
		return;
	putf(b, "%s: ", name);
	for (int i = 0; i < n; i++) {
		put(b, list[i], strlen(list[i]));
		if (i + 1 < n)
			put(b, ",\r\n ", 4);
	}
	put(b, "\r\n", 2);
}

static char *read_all(const char *path, size_t max, size_t *len_out, int *err)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	*err = 0;
	if (!fp) {
		*err = errno;
		return NULL;
	}
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap + 1);
	size_t n;
	while (buf && (n = fread(buf + len, 1, cap - len, fp)) > 0) {
		len += n;
		if (len > max) {
			*err = EFBIG;
			break;
		}
		if (len == cap) {
			cap *= 2;
			char *nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				buf = NULL;
				*err = ENOMEM;
				break;
			}
			buf = nb;
		}
	}
	if (buf && ferror(fp))
		*err = EIO;
	if (fp != stdin)
		fclose(fp);
	if (*err) {
		free(buf);
		return NULL;
	}
	if (!buf) {
		*err = ENOMEM;
		return NULL;
	}
	buf[len] = '\0';
	*len_out = len;
	return buf;
}

static const char *content_type_of(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = { { ".txt", "text/plain" },		{ ".pdf", "application/pdf" }, { ".png", "image/png" },
		      { ".jpg", "image/jpeg" },		{ ".jpeg", "image/jpeg" },     { ".gif", "image/gif" },
		      { ".html", "text/html" },		{ ".csv", "text/csv" },	       { ".zip", "application/zip" },
		      { ".ics", "text/calendar" },	{ ".vcf", "text/vcard" },      { ".eml", "message/rfc822" } };
	const char *dot = strrchr(name, '.');
	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (strcasecmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

static void random_hex(char *out, size_t bytes)
{
	unsigned char r[16] = { 0 };
	int fd = open("/dev/urandom", O_RDONLY);
	if (fd >= 0) {
		if (read(fd, r, sizeof r) < 0)
			memset(r, 0, sizeof r);
		close(fd);
	}
	for (size_t i = 0; i < bytes && i < sizeof r; i++)
		sprintf(out + 2 * i, "%02x", r[i]);
}

/* The body: 8bit when every line is short, else base64. */
static void put_text_part(mime_buf *b, const char *text, size_t len)
{
	int long_line = 0;
	size_t run = 0;
	for (size_t i = 0; i < len; i++) {
		run = text[i] == '\n' ? 0 : run + 1;
		if (run > 900)
			long_line = 1;
	}
	putf(b, "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: %s\r\n\r\n",
	     long_line ? "base64" : "8bit");
	if (long_line) {
		put_base64(b, (const unsigned char *)text, len, 1);
		return;
	}
	/* bare LF -> CRLF */
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
			put(b, "\r", 1);
		put(b, &text[i], 1);
	}
	if (len == 0 || text[len - 1] != '\n')
		put(b, "\r\n", 2);
}

int mime_compose(app *a, mime_buf *out)
{
	const options *o = &a->o;
	memset(out, 0, sizeof *out);
	const char *from = o->from ? o->from : a->email[0] ? a->email : a->user;
	for (int i = 0; i < o->nto; i++)
		if (has_break(o->to[i]))
			return fail(a, EXIT_USAGE, 0, 0, "--to: a line break in an address");
	for (int i = 0; i < o->ncc; i++)
		if (has_break(o->cc[i]))
			return fail(a, EXIT_USAGE, 0, 0, "--cc: a line break in an address");
	if (has_break(o->subject) || has_break(from))
		return fail(a, EXIT_USAGE, 0, 0, "--subject/--from: a line break in a header value");

	char *body = NULL;
	size_t body_len = 0;
	if (o->body_file) {
		int err = 0;
		body = read_all(o->body_file, BODY_MAX, &body_len, &err);
		if (!body)
			return fail(a, EXIT_LOCAL, 0, 0, "cannot read %s: %s", o->body_file, strerror(err));
	}
	const char *text = body ? body : o->body ? o->body : "";
	if (!body)
		body_len = strlen(text);

	char stamp[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	snprintf(stamp, sizeof stamp, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7], tm.tm_mday,
		 months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	char id[40] = "", boundary[40] = "";
	random_hex(id, 12);
	random_hex(boundary, 12);

	putf(out, "From: %s\r\n", from);
	put_address_list(out, "To", o->to, o->nto);
	put_address_list(out, "Cc", o->cc, o->ncc);
	put_header_text(out, "Subject", o->subject);
	putf(out, "Date: %s\r\nMessage-ID: <%s@eas-sync.libeas>\r\nMIME-Version: 1.0\r\nX-Mailer: libeas eas-sync\r\n",
	     stamp, id);
	if (o->nattach == 0) {
		put_text_part(out, text, body_len);
		free(body);
		return out->failed ? fail(a, EXIT_LOCAL, 0, 0, "out of memory composing the message") : 0;
	}
	putf(out, "Content-Type: multipart/mixed; boundary=\"=_libeas_%s\"\r\n\r\n", boundary);
	putf(out, "This is a multi-part message in MIME format.\r\n--=_libeas_%s\r\n", boundary);
	put_text_part(out, text, body_len);
	free(body);
	size_t total = 0;
	for (int i = 0; i < o->nattach; i++) {
		size_t len = 0;
		int err = 0;
		char *data = read_all(o->attach[i], ATTACH_TOTAL_MAX, &len, &err);
		if (!data) {
			mime_buf_free(out);
			return fail(a, err == EFBIG ? EXIT_USAGE : EXIT_LOCAL, 0, 0, "--attach %s: %s", o->attach[i],
				    err == EFBIG ? "larger than 32 MiB" : strerror(err));
		}
		total += len;
		if (total > ATTACH_TOTAL_MAX) {
			free(data);
			mime_buf_free(out);
			return fail(a, EXIT_USAGE, 0, 0, "--attach: more than 32 MiB of attachments");
		}
		const char *name = strrchr(o->attach[i], '/');
		name = name ? name + 1 : o->attach[i];
		putf(out, "\r\n--=_libeas_%s\r\nContent-Type: %s\r\nContent-Transfer-Encoding: base64\r\n", boundary,
		     content_type_of(name));
		if (is_ascii(name) && !strpbrk(name, "\"\\\r\n")) {
			putf(out, "Content-Disposition: attachment; filename=\"%s\"\r\n\r\n", name);
		} else {
			/* RFC 2231: filename*=utf-8''percent-encoded */
			putf(out, "Content-Disposition: attachment; filename*=utf-8''");
			for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
				if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
				    *p == '.' || *p == '-' || *p == '_')
					put(out, p, 1);
				else
					putf(out, "%%%02X", *p);
			}
			put(out, "\r\n\r\n", 4);
		}
		put_base64(out, (const unsigned char *)data, len, 1);
		free(data);
	}
	putf(out, "\r\n--=_libeas_%s--\r\n", boundary);
	return out->failed ? fail(a, EXIT_LOCAL, 0, 0, "out of memory composing the message") : 0;
}
