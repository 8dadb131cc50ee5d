/*
 * RFC 5322 dates ("Tue, 1 Jul 2003 10:52:37 +0200") to Unix time, with the
 * obsolete forms mail really has: no day name, two- and three-digit years,
 * no seconds, named zones (UT, GMT, EST..PDT, military letters, which
 * RFC 5322 says to read as -0000), a missing zone (taken as UTC), comments,
 * and the asctime order ("Tue Jul  1 10:52:37 2003").  And Unix time to
 * the EAS date form.  Pure arithmetic: no libc time functions, no locale.
 */
#include <stdio.h>
#include <string.h>

#include "classes/mime_internal.h"

#define MAX_TOKENS 12

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int days_in_month(int64_t y, unsigned m)
{
	static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

typedef struct token {
	const char *s;
	size_t n;
} token;

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Splits on blanks and commas, dropping comments. */
static size_t tokenize(const char *s, size_t n, token *out)
{
	size_t count = 0, i = 0;
	while (i < n) {
		char c = s[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',') {
			i++;
			continue;
		}
		if (c == '(') {
			int depth = 0;
			while (i < n) {
				if (s[i] == '\\' && i + 1 < n) {
					i += 2;
					continue;
				}
				if (s[i] == '(')
					depth++;
				else if (s[i] == ')' && --depth == 0)
					break;
				i++;
			}
			i++;
			continue;
		}
		size_t start = i;
		while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n' && s[i] != ',' && s[i] != '(')
			i++;
		if (count == MAX_TOKENS)
			return count + 1; /* too many: refused by the caller */
		out[count].s = s + start;
		out[count].n = i - start;
		count++;
	}
	return count;
}

static int month_of(const token *t)
{
	static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	if (t->n < 3)
		return 0;
	for (int m = 0; m < 12; m++) {
		int ok = 1;
		for (int k = 0; k < 3 && ok; k++)
			ok = eas__mime_lower((unsigned char)t->s[k]) == names[3 * m + k];
		for (size_t k = 3; k < t->n && ok; k++) /* "July", "Sept" and friends */
			ok = is_alpha(t->s[k]) || t->s[k] == '.';
		if (ok)
			return m + 1;
	}
	return 0;
}

static int is_weekday(const token *t)
{
	static const char names[] = "montuewedthufrisatsun";
	if (t->n < 3)
		return 0;
	for (int d = 0; d < 7; d++) {
		int ok = 1;
		for (int k = 0; k < 3 && ok; k++)
			ok = eas__mime_lower((unsigned char)t->s[k]) == names[3 * d + k];
		for (size_t k = 3; k < t->n && ok; k++)
			ok = is_alpha(t->s[k]) || t->s[k] == '.';
		if (ok)
			return 1;
	}
	return 0;
}

/* A token of 1..max digits only. */
static int number(const token *t, size_t max, long *out)
{
	if (t->n == 0 || t->n > max)
		return 0;
	long v = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (!is_digit(t->s[i]))
			return 0;
		v = v * 10 + (t->s[i] - '0');
	}
	*out = v;
	return 1;
}

/* hh:mm[:ss] */
static int time_of(const token *t, long *h, long *mi, long *s)
{
	long v[3] = { 0, 0, 0 };
	int part = 0;
	size_t digits = 0;
	for (size_t i = 0; i < t->n; i++) {
		char c = t->s[i];
		if (is_digit(c)) {
			if (++digits > 2)
				return 0;
			v[part] = v[part] * 10 + (c - '0');
		} else if (c == ':' && digits && part < 2) {
			part++;
			digits = 0;
		} else {
			return 0;
		}
	}
	if (part < 1 || !digits)
		return 0;
	*h = v[0];
	*mi = v[1];
	*s = v[2];
	return *h <= 23 && *mi <= 59 && *s <= 60;
}

/* Zone offset in minutes east of UTC: 1 when t is a zone. */
static int zone_of(const token *t, long *minutes)
{
	if ((t->s[0] == '+' || t->s[0] == '-') && t->n == 5) {
		long hhmm;
		token d = { t->s + 1, 4 };
		if (!number(&d, 4, &hhmm) || hhmm % 100 > 59)
			return 0;
		*minutes = (hhmm / 100) * 60 + hhmm % 100;
		if (t->s[0] == '-')
			*minutes = -*minutes;
		return 1;
	}
	static const struct {
		const char *name;
		long hours;
	} named[] = { { "ut", 0 }, { "utc", 0 }, { "gmt", 0 }, { "z", 0 }, { "est", -5 }, { "edt", -4 },
		      { "cst", -6 }, { "cdt", -5 }, { "mst", -7 }, { "mdt", -6 }, { "pst", -8 }, { "pdt", -7 } };
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
		if (eas__mime_ieq_n(t->s, t->n, named[i].name)) {
			*minutes = named[i].hours * 60;
			return 1;
		}
	if (t->n == 1 && is_alpha(t->s[0]) && eas__mime_lower((unsigned char)t->s[0]) != 'j') {
		*minutes = 0; /* military zones: their sign was specified backwards, RFC 5322 reads them as -0000 */
		return 1;
	}
	return 0;
}

int eas_mime_date_parse(int64_t *out, const char *text, size_t len)
{
	if (!out || !text)
		return EAS_E_INVALID;
	token t[MAX_TOKENS];
	size_t n = tokenize(text, len, t);
	if (n > MAX_TOKENS || n < 3)
		return EAS_E_MALFORMED;
	long nums[2] = { -1, -1 };
	size_t nnum = 0;
	long h = -1, mi = 0, s = 0, zone = 0;
	int month = 0, have_zone = 0;
	for (size_t i = 0; i < n; i++) {
		long v;
		int m;
		if (i == 0 && is_weekday(&t[i]))
			continue;
		if (!month && (m = month_of(&t[i])) != 0) {
			month = m;
		} else if (h < 0 && memchr(t[i].s, ':', t[i].n)) {
			if (!time_of(&t[i], &h, &mi, &s))
				return EAS_E_MALFORMED;
		} else if (number(&t[i], 4, &v) && nnum < 2) {
			nums[nnum++] = v;
			if (nnum == 2 && t[i].n < 2)
				return EAS_E_MALFORMED; /* a one-digit year */
		} else if (!have_zone && h >= 0 && zone_of(&t[i], &zone)) {
			have_zone = 1;
		} else if (have_zone || h >= 0) {
			/* trailing words after the zone ("(CEST)" without parentheses): ignored */
			continue;
		} else {
			return EAS_E_MALFORMED;
		}
	}
	if (!month || nnum != 2 || h < 0)
		return EAS_E_MALFORMED;
	long day = nums[0], year = nums[1];
	if (day > 31 && year <= 31) { /* "2003 Jul 1"-like orders: the larger one is the year */
		long tmp = day;
		day = year;
		year = tmp;
	}
	if (year < 50)
		year += 2000;
	else if (year < 1000)
		year += 1900;
	if (year < 1900 || year > 9999 || day < 1 || day > days_in_month(year, (unsigned)month))
		return EAS_E_MALFORMED;
	if (s == 60)
		s = 59; /* a leap second */
	int64_t days = days_from_civil(year, (unsigned)month, (unsigned)day);
	*out = days * 86400 + h * 3600 + mi * 60 + s - (int64_t)zone * 60;
	return 0;
}

void eas_mime_date_format(char *out, size_t size, int64_t t)
{
	if (!out || !size)
		return;
	int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t secs = t - days * 86400;
	int64_t y;
	unsigned m, d;
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		snprintf(out, size, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(out, size, "%04d-%02u-%02uT%02d:%02d:%02d.000Z", (int)y, m, d, (int)(secs / 3600),
		 (int)(secs / 60 % 60), (int)(secs % 60));
}
